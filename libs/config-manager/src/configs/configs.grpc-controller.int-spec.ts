import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status } from '@grpc/grpc-js';
import { fromJson, toJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { ChangeType, ConfigService } from '@llmops/contracts';
import { principalToMetadata } from '@llmops/platform-auth';
import { createGrpcClient, GrpcCallError, type GrpcClient } from '@llmops/platform-grpc';
import { Registry } from 'prom-client';
import { openConfigTestBed, type ConfigTestBed } from '../testing/config-test-bed.js';
import { ConfigsGrpcController } from './configs.grpc-controller.js';

const admin = principalToMetadata({ id: 'admin-1', type: 'user', roles: ['global-admin'] }, 'req-1');

describe('ConfigService over gRPC', () => {
  let bed: ConfigTestBed;
  let client: GrpcClient<typeof ConfigService>;

  beforeAll(async () => {
    bed = await openConfigTestBed('configs_grpc');
    const address = await bed.serve((server) => server.addService(ConfigService, new ConfigsGrpcController(bed.configs, bed.settings).implementation()));
    client = createGrpcClient(ConfigService, { address, registry: new Registry() });
  });

  afterAll(async () => {
    client?.close();
    await bed?.close();
  });

  const put = (key: string, value: number) =>
    client.setConfig(
      { namespace: 'acme/grpc', key, environment: 'staging', value: { kind: { case: 'numberValue', value } } },
      { metadata: admin },
    );

  it('writes and reads with the resolved environment', async () => {
    const written = await put('limit', 10);
    expect(written.entry?.version).toBe(1n);
    const read = await client.getConfig({ namespace: 'acme/grpc', key: 'limit', environment: 'production' }, { metadata: admin });
    expect(read.resolvedFrom).toBe('staging');
    expect(read.entry?.value?.kind).toEqual({ case: 'numberValue', value: 10 });
  });

  it('maps domain errors to gRPC statuses with details', async () => {
    const error = await client
      .getConfig({ namespace: 'Bad Namespace', key: 'k', environment: 'base' }, { metadata: admin })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GrpcCallError);
    expect((error as GrpcCallError).code).toBe(status.INVALID_ARGUMENT);
    expect((error as GrpcCallError).details['error-code']).toBe('INVALID_PATH');
    const anonymous = await client.getConfig({ namespace: 'acme', key: 'k', environment: 'base' }).catch((e: unknown) => e);
    expect((anonymous as GrpcCallError).code).toBe(status.UNAUTHENTICATED);
  });

  it('serves history, rollback and undelete, with conflicts as FAILED_PRECONDITION and ABORTED', async () => {
    const ref = { namespace: 'acme/grpc', key: 'history-key', environment: 'staging' };
    await put('history-key', 1);
    await put('history-key', 2);
    await client.deleteConfig(ref, { metadata: admin });
    const history = await client.getConfigHistory({ ...ref, limit: 2 }, { metadata: admin });
    expect(history.entries.map((entry) => [entry.version, entry.deleted])).toEqual([[3n, true], [2n, false]]);
    expect(history.nextBeforeVersion).toBe(2n);
    const restored = await client.undeleteConfig(ref, { metadata: admin });
    expect(restored.entry).toMatchObject({ version: 4n, deleted: false, value: { kind: { case: 'numberValue', value: 2 } } });
    const live = await client.undeleteConfig(ref, { metadata: admin }).catch((e: unknown) => e);
    expect((live as GrpcCallError).code).toBe(status.FAILED_PRECONDITION);
    const rolled = await client.rollbackConfig({ ...ref, version: 1n, expectedVersion: 4n }, { metadata: admin });
    expect(rolled.entry).toMatchObject({ version: 5n, value: { kind: { case: 'numberValue', value: 1 } } });
    const stale = await client.rollbackConfig({ ...ref, version: 2n, expectedVersion: 4n }, { metadata: admin }).catch((e: unknown) => e);
    expect((stale as GrpcCallError).code).toBe(status.ABORTED);
  });

  it('lists a namespace: its keys, then the namespaces below it; NOT_FOUND for an empty one', async () => {
    await client.setConfig({ namespace: 'tree/root', key: 'a', environment: 'base', value: { kind: { case: 'numberValue', value: 1 } } }, { metadata: admin });
    await client.setConfig({ namespace: 'tree/root/child', key: 'b', environment: 'base', value: { kind: { case: 'numberValue', value: 2 } } }, { metadata: admin });
    const items = [];
    for await (const item of client.listConfigs({ namespace: 'tree/root', environment: 'production' }, { metadata: admin })) items.push(item);
    expect(items.map((item) => item.entry?.key ?? `ns:${item.childNamespace}`)).toEqual(['a', 'ns:child']);
    const empty = await (async () => {
      for await (const item of client.listConfigs({ namespace: 'tree/nothing', environment: 'base' }, { metadata: admin })) void item;
    })().catch((e: unknown) => e);
    expect((empty as GrpcCallError).code).toBe(status.NOT_FOUND);
  });

  it('sets and reads namespace settings, and validates values without writing them', async () => {
    const schema = fromJson(ValueSchema, { type: 'object', required: ['model'] });
    const set = await client.setNamespaceSettings({ namespace: 'grpc-settings', schema, environments: ['base', 'prod'] }, { metadata: admin });
    expect(set.settings).toMatchObject({ namespace: 'grpc-settings', version: 1n, environments: ['base', 'prod'] });
    const read = await client.getNamespaceSettings({ namespace: 'grpc-settings/child' }, { metadata: admin });
    expect(read.definedAt).toBe('grpc-settings');
    expect(toJson(ValueSchema, read.settings!.schema!)).toEqual({ type: 'object', required: ['model'] });
    const checked = await client.validateConfigs(
      { namespace: 'grpc-settings/child', values: { good: fromJson(ValueSchema, { model: 'x' }), bad: fromJson(ValueSchema, 3) } },
      { metadata: admin },
    );
    expect(checked.valid).toBe(false);
    expect(checked.results.map((result) => [result.key, result.valid])).toEqual([['good', true], ['bad', false]]);
    const invalid = await client.setNamespaceSettings({ namespace: 'grpc-settings', schema: fromJson(ValueSchema, { type: 7 }) }, { metadata: admin }).catch((e: unknown) => e);
    expect((invalid as GrpcCallError).code).toBe(status.INVALID_ARGUMENT);
    expect((invalid as GrpcCallError).details['error-field']).toBe('schema');
  });

  it('applies bulk operations and names the failing one', async () => {
    const value = fromJson(ValueSchema, 'bulk');
    const applied = await client.bulkApply(
      {
        operations: [
          { operation: { case: 'set', value: { namespace: 'acme/bulk', key: 'x', environment: 'base', value } } },
          { operation: { case: 'delete', value: { namespace: 'acme/bulk', key: 'x', environment: 'base' } } },
        ],
      },
      { metadata: admin },
    );
    expect(applied.entries.map((entry) => [entry.version, entry.deleted])).toEqual([[1n, false], [2n, true]]);
    const failed = await client
      .bulkApply({ operations: [{ operation: { case: 'delete', value: { namespace: 'acme/bulk', key: 'missing', environment: 'base' } } }] }, { metadata: admin })
      .catch((e: unknown) => e);
    expect((failed as GrpcCallError).code).toBe(status.NOT_FOUND);
    expect((failed as GrpcCallError).message).toContain('operation 0:');
    const empty = await client.bulkApply({ operations: [{ operation: { case: undefined } }] }, { metadata: admin }).catch((e: unknown) => e);
    expect((empty as GrpcCallError).details['error-field']).toBe('operations[0]');
  });

  it('streams every change from a start revision, in order, then follows new ones', async () => {
    const first = await put('watched', 1);
    await put('watched', 2);
    const controller = new AbortController();
    const seen: Array<{ revision: bigint; version: bigint; type: ChangeType }> = [];
    const watching = (async () => {
      for await (const change of client.watchConfigs(
        { namespacePrefix: 'acme/grpc', startRevision: first.entry!.revision },
        { metadata: admin, signal: controller.signal },
      )) {
        seen.push({ revision: change.revision, version: change.entry!.version, type: change.type });
        if (seen.length === 4) break;
      }
    })();
    await put('watched', 3);
    await client.deleteConfig({ namespace: 'acme/grpc', key: 'watched', environment: 'staging' }, { metadata: admin });
    await watching;
    expect(seen.map((s) => s.version)).toEqual([1n, 2n, 3n, 4n]);
    expect(seen.map((s) => s.type)).toEqual([ChangeType.PUT, ChangeType.PUT, ChangeType.PUT, ChangeType.DELETE]);
    const revisions = seen.map((s) => s.revision);
    expect([...revisions].sort((a, b) => (a < b ? -1 : 1))).toEqual(revisions);
  });
});
