import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status } from '@grpc/grpc-js';
import { fromJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { ConfigEventType, ConfigService, type EventEnvelope } from '@llmops/contracts';
import { principalToMetadata } from '@llmops/platform-auth';
import { createGrpcClient, GrpcCallError, type GrpcClient } from '@llmops/platform-grpc';
import { decodeEvent } from '@llmops/platform-messaging';
import { createLogger } from '@llmops/platform-observability';
import type { Database } from '@llmops/platform-persistence';
import { ConfigsGrpcController } from '../configs/configs.grpc-controller.js';
import { CONFIG_MANAGER_SCHEMA } from '../migrations/1763800000000-CreateConfigEntries.js';
import { openConfigTestBed, type ConfigTestBed } from '../testing/config-test-bed.js';
import { DenialRecorder, recordingDenials } from './denial-recorder.js';

const admin = principalToMetadata({ id: 'admin-1', type: 'user', roles: ['global-admin'] }, 'req-admin');
const developer = principalToMetadata({ id: 'dev-7', type: 'user', roles: ['developer'] }, 'req-dev', {
  ip: '203.0.113.9',
  userAgent: 'curl/8',
});
const PLAINTEXT = 'sk-must-not-reach-the-audit-log';

describe('config-manager records the calls it refuses', () => {
  let bed: ConfigTestBed;
  let database: Database;
  let client: GrpcClient<typeof ConfigService>;

  beforeAll(async () => {
    bed = await openConfigTestBed('config_denials');
    database = bed.database;
    const controller = new ConfigsGrpcController(bed.configs, bed.settings);
    const recorder = new DenialRecorder(database, bed.outbox, createLogger({ service: 'config-manager-test', version: '0.0.0', level: 'silent', pretty: false }));
    const address = await bed.serve((server) => server.addService(ConfigService, recordingDenials(ConfigService, controller.implementation(), recorder)));
    client = createGrpcClient(ConfigService, { address });
  });

  afterAll(async () => {
    client?.close();
    await bed?.close();
  });

  async function denials(): Promise<EventEnvelope[]> {
    const rows: Array<{ envelope: Buffer }> = await database.dataSource.query(
      `SELECT envelope FROM ${CONFIG_MANAGER_SCHEMA}.outbox WHERE subject LIKE $1 ORDER BY seq`,
      [`%.${ConfigEventType.AccessDenied}`],
    );
    return rows.map((row) => decodeEvent(row.envelope));
  }

  async function refusal(call: Promise<unknown>): Promise<GrpcCallError> {
    const error = await call.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(GrpcCallError);
    return error as GrpcCallError;
  }

  it('records a refused write with who, from where, what and why, but never the value', async () => {
    const before = (await denials()).length;
    const error = await refusal(
      client.setConfig(
        { namespace: 'payments/api', key: 'openai', environment: 'production', value: fromJson(ValueSchema, PLAINTEXT) },
        { metadata: developer },
      ),
    );
    expect(error.code).toBe(status.PERMISSION_DENIED);
    const [denial] = (await denials()).slice(before);
    expect(denial).toMatchObject({
      type: ConfigEventType.AccessDenied,
      source: 'config-manager',
      subject: 'configs/payments/api/openai',
      correlationId: 'req-dev',
      actor: { id: 'dev-7', type: 'user', ipAddress: '203.0.113.9', userAgent: 'curl/8' },
    });
    expect(denial!.payload).toEqual({
      rpc: 'llmops.config.v1.ConfigService/SetConfig',
      namespace: 'payments/api',
      key: 'openai',
      environment: 'production',
      reason: error.message.replace(/^\d+ PERMISSION_DENIED: /, ''),
    });
    const raw: Array<{ envelope: Buffer }> = await database.dataSource.query(`SELECT envelope FROM ${CONFIG_MANAGER_SCHEMA}.outbox`);
    expect(raw.some((row) => row.envelope.toString('latin1').includes(PLAINTEXT))).toBe(false);
  });

  it('records refusals decided inside a bulk and on a streaming call', async () => {
    const before = (await denials()).length;
    const bulk = await refusal(
      client.bulkApply(
        {
          operations: [
            { operation: { case: 'set', value: { namespace: 'team/app', key: 'a', environment: 'development', value: fromJson(ValueSchema, 1) } } },
            { operation: { case: 'set', value: { namespace: 'team/app', key: 'b', environment: 'production', value: fromJson(ValueSchema, 2) } } },
          ],
        },
        { metadata: developer },
      ),
    );
    expect(bulk.code).toBe(status.PERMISSION_DENIED);
    const listing = await refusal(
      (async () => {
        for await (const page of client.listConfigs({ namespace: 'team/app', environment: 'production' }, { metadata: developer })) void page;
      })(),
    );
    expect(listing.code).toBe(status.PERMISSION_DENIED);
    const recorded = (await denials()).slice(before);
    expect(recorded.map((denial) => denial.payload)).toEqual([
      { rpc: 'llmops.config.v1.ConfigService/BulkApply', operations: '2', reason: expect.stringMatching(/^operation 1: /) },
      {
        rpc: 'llmops.config.v1.ConfigService/ListConfigs',
        namespace: 'team/app',
        environment: 'production',
        reason: expect.any(String),
      },
    ]);
  });

  it('records nothing for calls that are allowed or fail for another reason', async () => {
    const before = (await denials()).length;
    await client.setConfig({ namespace: 'team/app', key: 'c', environment: 'development', value: fromJson(ValueSchema, 3) }, { metadata: developer });
    const missing = await refusal(client.getConfig({ namespace: 'team/app', key: 'nope', environment: 'development' }, { metadata: admin }));
    expect(missing.code).toBe(status.NOT_FOUND);
    expect((await denials()).length).toBe(before);
  });
});
