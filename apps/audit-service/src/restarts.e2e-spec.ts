import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventEnvelopeSchema } from '@llmops/contracts';
import { encodeEvent, JetStreamBus } from '@llmops/platform-messaging';
import {
  createTestDatabase,
  deleteJetStreamStreams,
  startAppProcess,
  TEST_NATS_URL,
  uniqueName,
  waitFor,
  type AppProcess,
  type TestDatabase,
} from '@llmops/platform-testing';
import pg from 'pg';

const EVENTS = 100_000;
const IN_FLIGHT = 256;
/** The service is killed (SIGKILL, no chance to finish its batch) when this many events have been published. */
const KILL_AT = [30_000, 65_000];
const root = join(import.meta.dirname, '..', '..', '..');

describe('audit-service killed twice while 100,000 events arrive', () => {
  let database: TestDatabase;
  let dataDir: string;
  let publisher: JetStreamBus;
  let service: AppProcess | undefined;
  const stream = uniqueName('AUDIT_RESTARTS').toUpperCase();
  const subjectRoot = uniqueName('restarts');

  const startService = async (): Promise<AppProcess> => {
    const app = startAppProcess(
      join(root, 'dist/apps/audit-service/main.js'),
      {
        DATABASE_URL: database.url,
        NATS_URL: TEST_NATS_URL,
        NATS_STREAM: stream,
        NATS_SUBJECT_ROOT: subjectRoot,
        AUDIT_SERVICE_GRPC_PORT: '0',
        AUDIT_SERVICE_OPS_PORT: '0',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
      },
      root,
    );
    await app.waitForOutput(/audit-service started/, 60_000);
    return app;
  };

  beforeAll(async () => {
    database = await createTestDatabase({ prefix: 'audit_restarts' });
    dataDir = await mkdtemp(join(tmpdir(), 'audit-restarts-'));
    publisher = await JetStreamBus.connect({ url: TEST_NATS_URL, stream, subjectRoot, name: 'restarts-publisher' });
  });

  afterAll(async () => {
    await service?.stop('SIGKILL');
    await publisher?.close();
    await deleteJetStreamStreams([stream]);
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stores every event exactly once, as consecutive leaves of one signed tree', async () => {
    service = await startService();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const storedAt = async (): Promise<number> =>
      Number((await client.query<{ count: string }>('SELECT count(*) FROM audit_service.audit_logs')).rows[0]!.count);
    const storedAtKills: number[] = [];
    const ids = Array.from({ length: EVENTS }, () => randomUUID());
    let next = 0;
    let restarting: Promise<void> = Promise.resolve();
    const publishOne = async (index: number): Promise<void> => {
      const event = create(EventEnvelopeSchema, {
        id: ids[index]!,
        type: 'config.updated',
        source: 'config-manager',
        subject: `configs/restarts/k${index}@production`,
        time: timestampFromDate(new Date()),
        actor: { id: 'load', type: 'service' },
        payload: { index },
      });
      await publisher.publish(`${subjectRoot}.config-manager.config.updated`, encodeEvent(event), event.id);
    };
    const worker = async (): Promise<void> => {
      while (next < EVENTS) {
        const index = next++;
        if (KILL_AT.includes(index)) {
          restarting = restarting.then(async () => {
            storedAtKills.push(await storedAt());
            await service!.stop('SIGKILL');
            service = await startService();
          });
        }
        await publishOne(index);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    // A redelivered duplicate of an event already stored (same id) must not be stored again.
    await publishOne(0);
    await restarting;

    try {
      // Both kills landed while the log was still filling, so each cut a consumer with work in flight.
      expect(storedAtKills).toHaveLength(KILL_AT.length);
      for (const count of storedAtKills) expect(count).toBeLessThan(EVENTS);
      const stored = await waitFor(
        async () => {
          const count = await storedAt();
          return count >= EVENTS ? count : undefined;
        },
        { timeoutMs: 240_000, intervalMs: 1_000, message: 'not every event reached the audit log' },
      );
      expect(stored).toBe(EVENTS);
      const { rows } = await client.query<Record<string, string>>(
        `SELECT count(DISTINCT id) AS ids, count(DISTINCT leaf_index) AS leaves, min(leaf_index) AS first, max(leaf_index) AS last,
                (SELECT tree_size FROM audit_service.merkle_tree_state) AS tree_size,
                (SELECT max(tree_size) FROM audit_service.tree_heads) AS signed_size
           FROM audit_service.audit_logs`,
      );
      expect(rows[0]).toEqual({
        ids: String(EVENTS),
        leaves: String(EVENTS),
        first: '0',
        last: String(EVENTS - 1),
        tree_size: String(EVENTS),
        signed_size: String(EVENTS),
      });
      const missing = await client.query('SELECT 1 FROM unnest($1::uuid[]) AS sent(id) WHERE NOT EXISTS (SELECT 1 FROM audit_service.audit_logs a WHERE a.id = sent.id) LIMIT 1', [ids]);
      expect(missing.rows).toEqual([]);
    } finally {
      await client.end();
    }
  }, 600_000);
});
