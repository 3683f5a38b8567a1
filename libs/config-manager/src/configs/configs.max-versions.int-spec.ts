import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status } from '@grpc/grpc-js';
import { ConfigService, type WatchConfigsResponse } from '@llmops/contracts';
import { principalToMetadata } from '@llmops/platform-auth';
import { createGrpcClient, GrpcCallError, type GrpcClient } from '@llmops/platform-grpc';
import type { Database } from '@llmops/platform-persistence';
import { waitFor } from '@llmops/platform-testing';
import { Registry } from 'prom-client';
import { CONFIG_MANAGER_SCHEMA } from '../migrations/1763800000000-CreateConfigEntries.js';
import type { NamespaceSettingsService } from '../namespace-settings/namespace-settings.service.js';
import { configFailure, openConfigTestBed, type ConfigTestBed } from '../testing/config-test-bed.js';
import type { ConfigEntryEntity } from './config-entry.entity.js';
import { ConfigsGrpcController } from './configs.grpc-controller.js';
import type { ConfigActor, ConfigKeyRef, ConfigsService } from './configs.service.js';
import { ConfigExceptionCode } from './exceptions/config.exception.js';

const admin: ConfigActor = { principal: { id: 'admin-1', type: 'user', roles: ['global-admin'] }, requestId: 'r1' };
const adminMetadata = principalToMetadata(admin.principal, 'r1');

const failure = configFailure;

describe('max_versions and watch compaction', () => {
  let bed: ConfigTestBed;
  let database: Database;
  let settings: NamespaceSettingsService;
  let configs: ConfigsService;
  let client: GrpcClient<typeof ConfigService>;

  beforeAll(async () => {
    bed = await openConfigTestBed('configs_max_versions');
    ({ database, settings, configs } = bed);
    const address = await bed.serve((server) => server.addService(ConfigService, new ConfigsGrpcController(configs, settings).implementation()));
    client = createGrpcClient(ConfigService, { address, registry: new Registry() });
  });

  afterAll(async () => {
    client?.close();
    await bed?.close();
  });

  const versionsOf = async (ref: ConfigKeyRef): Promise<number[]> =>
    (await configs.history(admin, { ...ref, limit: 500 })).entries.map((entry) => entry.version);
  const storedRows = async (ref: ConfigKeyRef): Promise<number> =>
    Number(
      (
        await database.dataSource.query(
          `SELECT count(*)::int AS n FROM ${CONFIG_MANAGER_SCHEMA}.config_entries WHERE namespace = $1 AND key = $2 AND environment = $3`,
          [ref.namespace, ref.key, ref.environment],
        )
      )[0].n,
    );
  const compactedRevision = async (): Promise<number> =>
    Number((await database.dataSource.query(`SELECT compacted_revision FROM ${CONFIG_MANAGER_SCHEMA}.revision_counter`))[0].compacted_revision);
  const write = async (ref: ConfigKeyRef, count: number): Promise<ConfigEntryEntity[]> => {
    const written: ConfigEntryEntity[] = [];
    for (let index = 0; index < count; index++) written.push(await configs.set(admin, { ...ref, value: { index } }));
    return written;
  };

  it('keeps the newest max_versions of each key and environment on every write, below the namespace too', async () => {
    await settings.set(admin, { namespace: 'prune', maxVersions: 3 });
    const base = { namespace: 'prune/app', key: 'model', environment: 'base' };
    const production = { ...base, environment: 'production' };
    const other = { ...base, key: 'temperature' };
    await write(base, 5);
    await write(production, 2);
    await write(other, 4);

    expect(await versionsOf(base)).toEqual([5, 4, 3]);
    expect(await versionsOf(production)).toEqual([2, 1]);
    expect(await versionsOf(other)).toEqual([4, 3, 2]);
    expect(await storedRows(base)).toBe(3);
    expect((await configs.get(admin, base)).entry).toMatchObject({ version: 5, value: { index: 4 } });

    // Raising the limit keeps what is left; lowering it prunes each key at its next write.
    await settings.set(admin, { namespace: 'prune', maxVersions: 2, expectedVersion: 1 });
    expect(await versionsOf(other)).toEqual([4, 3, 2]);
    await write(other, 1);
    expect(await versionsOf(other)).toEqual([5, 4]);
    // A namespace with settings of its own and none for max_versions keeps everything.
    await settings.set(admin, { namespace: 'prune/all', environments: [] });
    const unlimited = { namespace: 'prune/all', key: 'k', environment: 'base' };
    await write(unlimited, 6);
    expect(await versionsOf(unlimited)).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it('keeps a deleted key deleted, and says so when pruning left undelete nothing to restore', async () => {
    await settings.set(admin, { namespace: 'tomb', maxVersions: 2 });
    const ref = { namespace: 'tomb', key: 'flag', environment: 'staging' };
    await write(ref, 3);
    await configs.delete(admin, ref);
    expect(await versionsOf(ref)).toEqual([4, 3]);
    expect((await failure(configs.get(admin, { ...ref, exact: true }))).code).toBe(ConfigExceptionCode.NotFound);
    expect(await configs.undelete(admin, ref)).toMatchObject({ version: 5, value: { index: 2 }, deleted: false });

    await settings.set(admin, { namespace: 'tomb', maxVersions: 1, expectedVersion: 1 });
    await configs.delete(admin, ref);
    expect(await versionsOf(ref)).toEqual([6]);
    expect((await failure(configs.get(admin, { ...ref, exact: true }))).code).toBe(ConfigExceptionCode.NotFound);
    const nothingLeft = await failure(configs.undelete(admin, ref));
    expect(nothingLeft.code).toBe(ConfigExceptionCode.NotFound);
    expect(nothingLeft.message).toBe('config tomb/flag has no value left to restore in staging: max_versions pruned the versions before 6');
    // The key is still a key: its path cannot become a namespace.
    const asNamespace = await failure(configs.set(admin, { namespace: 'tomb/flag', key: 'k', environment: 'staging', value: 1 }));
    expect(asNamespace.code).toBe(ConfigExceptionCode.Conflict);
  });

  it('refuses a rollback to a pruned version with NOT_FOUND naming the oldest kept one, and rolls back to a kept one', async () => {
    await settings.set(admin, { namespace: 'roll', maxVersions: 3 });
    const ref = { namespace: 'roll', key: 'prompt', environment: 'base' };
    await write(ref, 6);
    const pruned = await failure(configs.rollback(admin, { ...ref, version: 2 }));
    expect(pruned.code).toBe(ConfigExceptionCode.NotFound);
    expect(pruned.field).toBe('version');
    expect(pruned.message).toBe('config roll/prompt no longer has version 2 in base: max_versions pruned the versions before 4, the oldest kept version');
    const future = await failure(configs.rollback(admin, { ...ref, version: 9 }));
    expect(future.message).toBe('config roll/prompt has no version 9 in base');

    expect(await configs.rollback(admin, { ...ref, version: 4 })).toMatchObject({ version: 7, value: { index: 3 } });
    expect(await versionsOf(ref)).toEqual([7, 6, 5]);
  });

  it('moves the compacted revision to the highest pruned revision, with the write, and not when the write fails', async () => {
    await settings.set(admin, { namespace: 'compact', maxVersions: 2 });
    const ref = { namespace: 'compact', key: 'k', environment: 'base' };
    const [first, second, third] = await write(ref, 3);
    expect(await compactedRevision()).toBe(first!.revision);
    await write(ref, 1);
    expect(await compactedRevision()).toBe(second!.revision);

    const failing = await failure(
      configs.bulk(admin, [
        { kind: 'set', ...ref, value: 'pruning write' },
        { kind: 'delete', ...ref, key: 'missing' },
      ]),
    );
    expect(failing.code).toBe(ConfigExceptionCode.NotFound);
    expect(await compactedRevision()).toBe(second!.revision);
    expect(await versionsOf(ref)).toEqual([4, 3]);

    await configs.bulk(admin, [{ kind: 'set', ...ref, value: 'pruning write' }]);
    expect(await compactedRevision()).toBe(third!.revision);
  });

  it('validates max_versions: 1 to 10000, and 0 or none keeps every version', async () => {
    for (const maxVersions of [-1, 10_001, 2.5]) {
      const refused = await failure(settings.set(admin, { namespace: 'limits', maxVersions }));
      expect(refused.code).toBe(ConfigExceptionCode.InvalidValue);
      expect(refused.field).toBe('max_versions');
      expect(refused.message).toContain('max_versions must be an integer from 1 to 10000');
    }
    expect((await settings.set(admin, { namespace: 'limits', maxVersions: 10_000 })).maxVersions).toBe(10_000);
    expect((await settings.set(admin, { namespace: 'limits', maxVersions: 0 })).maxVersions).toBeUndefined();
    const overGrpc = await client
      .setNamespaceSettings({ namespace: 'limits', maxVersions: 20_000 }, { metadata: adminMetadata })
      .catch((error: unknown) => error);
    expect(overGrpc).toBeInstanceOf(GrpcCallError);
    expect((overGrpc as GrpcCallError).code).toBe(status.INVALID_ARGUMENT);
    expect((overGrpc as GrpcCallError).details['error-field']).toBe('max_versions');
    await client.setNamespaceSettings({ namespace: 'limits', maxVersions: 7 }, { metadata: adminMetadata });
    const inherited = await client.getNamespaceSettings({ namespace: 'limits/below' }, { metadata: adminMetadata });
    expect(inherited).toMatchObject({ definedAt: 'limits', settings: { maxVersions: 7 } });
  });

  describe('WatchConfigs', () => {
    /** Collects a watch's responses until `enough` says so, then cancels it. */
    const collect = (
      request: { namespacePrefix: string; startRevision: bigint; notifyCreated?: boolean },
      enough: (seen: WatchConfigsResponse[]) => boolean,
    ): { seen: WatchConfigsResponse[]; done: Promise<void> } => {
      const seen: WatchConfigsResponse[] = [];
      const cancel = new AbortController();
      const done = (async () => {
        try {
          for await (const response of client.watchConfigs(request, { metadata: adminMetadata, signal: cancel.signal })) {
            seen.push(response);
            if (enough(seen)) break;
          }
        } finally {
          cancel.abort();
        }
      })();
      return { seen, done };
    };

    it('fails a start at or below the compacted revision with OUT_OF_RANGE, REVISION_COMPACTED and the revision', async () => {
      await settings.set(admin, { namespace: 'wc/limited', maxVersions: 2 });
      await write({ namespace: 'wc/limited', key: 'k', environment: 'base' }, 4);
      const compacted = await compactedRevision();
      expect(compacted).toBeGreaterThan(0);
      for (const startRevision of [1n, BigInt(compacted)]) {
        const refused = await collect({ namespacePrefix: 'wc', startRevision, notifyCreated: true }, () => true).done.catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(GrpcCallError);
        expect((refused as GrpcCallError).code).toBe(status.OUT_OF_RANGE);
        expect((refused as GrpcCallError).details).toMatchObject({
          'error-code': 'REVISION_COMPACTED',
          'error-field': 'start_revision',
          'compacted-revision': String(compacted),
        });
        expect((refused as GrpcCallError).message).toContain(`watch from revision ${compacted + 1} or later`);
      }
      const negative = await collect({ namespacePrefix: 'wc', startRevision: -1n }, () => true).done.catch((error: unknown) => error);
      expect((negative as GrpcCallError).code).toBe(status.INVALID_ARGUMENT);
      expect((negative as GrpcCallError).details['error-field']).toBe('start_revision');
    });

    it('from compacted + 1 replays what is kept and follows every later change exactly once, in order', async () => {
      const limited = { namespace: 'wc/limited', key: 'k', environment: 'base' };
      const free = { namespace: 'wc/free', key: 'k', environment: 'base' };
      await write(free, 3);
      await write(limited, 3);
      const compacted = await compactedRevision();
      const kept: Array<{ revision: string }> = await database.dataSource.query(
        `SELECT revision FROM ${CONFIG_MANAGER_SCHEMA}.config_entries WHERE namespace LIKE 'wc/%' AND revision > $1 ORDER BY revision`,
        [compacted],
      );
      const replayed = kept.map((row) => Number(row.revision));
      const later: number[] = [];
      const laterWrites = 3;
      // The created response, the replay, then the later writes: a change seen twice would push one of those out.
      const watch = collect(
        { namespacePrefix: 'wc', startRevision: BigInt(compacted + 1), notifyCreated: true },
        (seen) => seen.length === 1 + replayed.length + laterWrites,
      );
      await waitFor(() => watch.seen.some((response) => Number(response.revision) === replayed.at(-1)), {
        timeoutMs: 5_000,
        message: 'the watch did not replay the kept changes',
      });
      // The watch has caught up: these writes prune only versions it has already delivered.
      later.push((await configs.set(admin, { ...limited, value: 'later' })).revision);
      later.push((await configs.set(admin, { ...free, value: 'later' })).revision);
      later.push((await configs.delete(admin, limited)).revision);
      await watch.done;

      const [created, ...changes] = watch.seen;
      expect(created).toMatchObject({ created: true, revision: BigInt(compacted) });
      expect(created!.entry).toBeUndefined();
      expect(changes.map((change) => Number(change.revision))).toEqual([...replayed, ...later]);
      expect(changes.at(-1)!.entry).toMatchObject({ key: 'k', namespace: 'wc/limited', deleted: true });
      expect(await compactedRevision()).toBeGreaterThan(compacted);
    });
  });
});
