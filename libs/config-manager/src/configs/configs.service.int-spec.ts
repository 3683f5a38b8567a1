import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Principal } from '@llmops/platform-auth';
import type { Database } from '@llmops/platform-persistence';
import { waitFor } from '@llmops/platform-testing';
import { CONFIG_MANAGER_SCHEMA } from '../migrations/1763800000000-CreateConfigEntries.js';
import type { NamespaceSettingsService } from '../namespace-settings/namespace-settings.service.js';
import { configFailure, openConfigTestBed, type ConfigTestBed } from '../testing/config-test-bed.js';
import { ConfigsService, type ConfigActor } from './configs.service.js';
import { ConfigException, ConfigExceptionCode } from './exceptions/config.exception.js';

const admin: ConfigActor = { principal: { id: 'admin-1', type: 'user', roles: ['global-admin'] }, requestId: 'r1' };
const developer: ConfigActor = {
  principal: { id: 'dev-1', type: 'user', roles: ['developer'] } satisfies Principal,
  requestId: 'r2',
};

const failure = configFailure;

describe(ConfigsService.name, () => {
  let bed: ConfigTestBed;
  let database: Database;
  let configs: ConfigsService;
  /** onCommitted calls: each nudges the outbox relay in the service. */
  let commits = 0;
  let settings: NamespaceSettingsService;

  beforeAll(async () => {
    // No backstop poll within a test's time: a watch that wakes was woken by a commit.
    bed = await openConfigTestBed('configs', { watchPollMs: 600_000, onCommitted: () => void commits++ });
    ({ database, configs, settings } = bed);
  });

  afterAll(async () => {
    await bed?.close();
  });

  const outboxCount = async (): Promise<number> =>
    Number((await database.dataSource.query(`SELECT count(*)::int AS n FROM ${CONFIG_MANAGER_SCHEMA}.outbox`))[0].n);

  it('versions every write and records its event in the same transaction', async () => {
    const before = await outboxCount();
    const first = await configs.set(admin, { namespace: 'acme/chat', key: 'model', environment: 'development', value: 'gpt-4o' });
    const second = await configs.set(admin, {
      namespace: 'acme/chat',
      key: 'model',
      environment: 'development',
      value: { name: 'claude', temperature: 0.2 },
    });
    expect(first.version).toBe(1);
    expect(second.version).toBe(2);
    expect(second.revision).toBeGreaterThan(first.revision);
    expect(await outboxCount()).toBe(before + 2);
    const read = await configs.get(admin, { namespace: 'acme/chat', key: 'model', environment: 'development' });
    expect(read.entry.value).toEqual({ name: 'claude', temperature: 0.2 });
    expect(read.entry.version).toBe(2);
    expect(read.entry.createdBy).toBe('admin-1');
  });

  it('resolves the most specific environment and says where the value came from', async () => {
    await configs.set(admin, { namespace: 'acme/inherit', key: 'timeout', environment: 'base', value: 30 });
    await configs.set(admin, { namespace: 'acme/inherit', key: 'timeout', environment: 'staging', value: 10 });
    const production = await configs.get(admin, { namespace: 'acme/inherit', key: 'timeout', environment: 'production' });
    expect(production.entry.value).toBe(10);
    expect(production.resolvedFrom).toBe('staging');
    const development = await configs.get(admin, { namespace: 'acme/inherit', key: 'timeout', environment: 'development' });
    expect(development.resolvedFrom).toBe('base');
    const exact = await failure(
      configs.get(admin, { namespace: 'acme/inherit', key: 'timeout', environment: 'production', exact: true }),
    );
    expect(exact.code).toBe(ConfigExceptionCode.NotFound);
  });

  it('lets exactly one of two racing check-and-set writers win', async () => {
    await configs.set(admin, { namespace: 'acme/cas', key: 'limit', environment: 'production', value: 1 });
    const before = await outboxCount();
    const results = await Promise.allSettled([
      configs.set(admin, { namespace: 'acme/cas', key: 'limit', environment: 'production', value: 2, expectedVersion: 1 }),
      configs.set(admin, { namespace: 'acme/cas', key: 'limit', environment: 'production', value: 3, expectedVersion: 1 }),
    ]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect((rejected[0]!.reason as ConfigException).code).toBe(ConfigExceptionCode.VersionConflict);
    expect(await outboxCount()).toBe(before + 1);
    const current = await configs.get(admin, { namespace: 'acme/cas', key: 'limit', environment: 'production' });
    expect(current.entry.version).toBe(2);
  });

  it('gives concurrent plain writers of one key consecutive versions, each reading what the one before committed', async () => {
    await configs.set(admin, { namespace: 'acme/queue', key: 'depth', environment: 'production', value: 0 });
    // Writers queue on the revision lock; each must then see the version its predecessor committed meanwhile.
    const written = await Promise.all(
      Array.from({ length: 12 }, (_, n) => configs.set(admin, { namespace: 'acme/queue', key: 'depth', environment: 'production', value: n + 1 })),
    );
    expect(written.map((entry) => entry.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, n) => n + 2));
    const byRevision = [...written].sort((a, b) => a.revision - b.revision);
    expect(byRevision.map((entry) => entry.version)).toEqual(Array.from({ length: 12 }, (_, n) => n + 2));
  });

  it('treats expected_version 0 as "must not exist"', async () => {
    await configs.set(admin, { namespace: 'acme/cas', key: 'fresh', environment: 'base', value: true, expectedVersion: 0 });
    const again = await failure(
      configs.set(admin, { namespace: 'acme/cas', key: 'fresh', environment: 'base', value: false, expectedVersion: 0 }),
    );
    expect(again.code).toBe(ConfigExceptionCode.VersionConflict);
  });

  it('rejects bad path segments and names the one that is wrong', async () => {
    const traversal = await failure(configs.set(admin, { namespace: 'acme/..', key: 'x', environment: 'base', value: 1 }));
    expect(traversal.code).toBe(ConfigExceptionCode.InvalidPath);
    expect(traversal.message).toContain('namespace segment 2');
    const upper = await failure(configs.set(admin, { namespace: 'acme', key: 'Bad Key', environment: 'base', value: 1 }));
    expect(upper.message).toContain('key "Bad Key"');
    const deep = await failure(configs.get(admin, { namespace: 'a/b/c/d/e/f/g/h', key: 'k', environment: 'base' }));
    expect(deep.code).toBe(ConfigExceptionCode.InvalidPath);
  });

  it('enforces the developer role: writes in development, not in production', async () => {
    await configs.set(developer, { namespace: 'team/app', key: 'flag', environment: 'development', value: true });
    const denied = await failure(
      configs.set(developer, { namespace: 'team/app', key: 'flag', environment: 'production', value: true }),
    );
    expect(denied.code).toBe(ConfigExceptionCode.PermissionDenied);
    const readProduction = await failure(
      configs.get(developer, { namespace: 'team/app', key: 'flag', environment: 'production' }),
    );
    expect(readProduction.code).toBe(ConfigExceptionCode.PermissionDenied);
  });

  it('deletes with a tombstone that falls back to the less specific environment', async () => {
    await configs.set(admin, { namespace: 'acme/del', key: 'k', environment: 'base', value: 'base' });
    await configs.set(admin, { namespace: 'acme/del', key: 'k', environment: 'production', value: 'prod' });
    const deleted = await configs.delete(admin, { namespace: 'acme/del', key: 'k', environment: 'production' });
    expect(deleted.version).toBe(2);
    const read = await configs.get(admin, { namespace: 'acme/del', key: 'k', environment: 'production' });
    expect(read.resolvedFrom).toBe('base');
    const again = await failure(configs.delete(admin, { namespace: 'acme/del', key: 'k', environment: 'production' }));
    expect(again.code).toBe(ConfigExceptionCode.NotFound);
  });

  it('lists changes after a revision in revision order', async () => {
    const start = await configs.currentRevision();
    for (let i = 0; i < 5; i++) {
      await configs.set(admin, { namespace: 'acme/watch', key: `k${i}`, environment: 'base', value: i });
    }
    await configs.set(admin, { namespace: 'other', key: 'k', environment: 'base', value: 0 });
    const { changes, scannedTo } = await configs.changesSince(admin, 'acme/watch', start);
    expect(changes.map((c) => c.key)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    // Past the last change under the prefix, up to everything committed: the write to 'other' is scanned too.
    expect(scannedTo).toBe(await configs.currentRevision());
    expect(scannedTo).toBeGreaterThan(changes.at(-1)!.revision);
    // A quiet prefix moves up just the same, so a watch that reads the database never rescans from where it was.
    const quiet = await configs.changesSince(admin, 'nothing/here', start);
    expect(quiet).toEqual({ changes: [], scannedTo: await configs.currentRevision() });
    const revisions = changes.map((c) => c.revision);
    expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
  });

  it('skips changes a watcher may not read, yet moves past them', async () => {
    const start = await configs.currentRevision();
    await configs.set(admin, { namespace: 'team/watch', key: 'secret-ish', environment: 'production', value: 1 });
    await configs.set(admin, { namespace: 'team/watch', key: 'visible', environment: 'development', value: 2 });
    const seen = await configs.changesSince(developer, 'team/watch', start);
    expect(seen.changes.map((c) => c.key)).toEqual(['visible']);
    const hiddenOnly = await configs.changesSince(developer, 'team/watch', start);
    expect(hiddenOnly.scannedTo).toBe(await configs.currentRevision());
    const afterFirst = await configs.changesSince(developer, 'team/watch', start + 1);
    expect(afterFirst.changes.map((c) => c.key)).toEqual(['visible']);
  });

  it('nudges the outbox relay after each committed config or settings write, and not after a refused one', async () => {
    const before = commits;
    await configs.set(admin, { namespace: 'nudge/app', key: 'k', environment: 'development', value: 1 });
    await settings.set(admin, { namespace: 'nudge', environments: ['base', 'development'] });
    expect(commits).toBe(before + 2);
    await expect(configs.set(admin, { namespace: 'nudge/app', key: 'k', environment: 'development', value: 2, expectedVersion: 7 })).rejects.toThrow();
    await expect(settings.set(admin, { namespace: 'nudge', environments: ['base'], expectedVersion: 9 })).rejects.toThrow();
    expect(commits).toBe(before + 2);
  });

  it('holds a watcher to the IP allowlist of its role binding, change by change', async () => {
    const start = await configs.currentRevision();
    await configs.set(admin, { namespace: 'office/watch', key: 'k', environment: 'base', value: 1 });
    const principal = { id: 'op-1', type: 'user' as const, roles: [], bindings: [{ role: 'operator' as const, conditions: { ipAllowlist: ['10.20.0.0/16'] } }] };
    const inside = await configs.changesSince({ principal, requestId: 'r', ip: '10.20.3.4' }, 'office/watch', start);
    expect(inside.changes.map((c) => c.key)).toEqual(['k']);
    const outside = await configs.changesSince({ principal, requestId: 'r', ip: '192.0.2.1' }, 'office/watch', start);
    expect(outside.changes).toEqual([]);
    // Moved past all the same, so a watch outside the allowlist does not re-read what it may not see.
    expect(outside.scannedTo).toBe(inside.scannedTo);
  });

  it('lists history newest first with deletions, and pages through it', async () => {
    const ref = { namespace: 'team/history', key: 'prompt', environment: 'development' };
    for (const value of ['v1', 'v2', 'v3']) await configs.set(admin, { ...ref, value });
    await configs.delete(admin, ref);
    const first = await configs.history(admin, { ...ref, limit: 3 });
    expect(first.entries.map((e) => [e.version, e.deleted, e.value, e.createdBy])).toEqual([
      [4, true, null, 'admin-1'],
      [3, false, 'v3', 'admin-1'],
      [2, false, 'v2', 'admin-1'],
    ]);
    expect(first.nextBeforeVersion).toBe(2);
    const second = await configs.history(admin, { ...ref, limit: 3, beforeVersion: first.nextBeforeVersion });
    expect(second.entries.map((e) => e.version)).toEqual([1]);
    expect(second.nextBeforeVersion).toBeUndefined();
    expect((await failure(configs.history(admin, { ...ref, limit: 501 }))).field).toBe('limit');
    expect((await failure(configs.history(admin, { ...ref, key: 'never-written' }))).code).toBe(ConfigExceptionCode.NotFound);
    expect((await failure(configs.history(developer, { ...ref, environment: 'production' }))).code).toBe(ConfigExceptionCode.PermissionDenied);
  });

  it('rolls back by writing an old value as a new version, with its event', async () => {
    const ref = { namespace: 'team/rollback', key: 'model', environment: 'staging' };
    await configs.set(admin, { ...ref, value: { model: 'gpt-4o' }, classification: 'confidential' });
    await configs.set(admin, { ...ref, value: { model: 'broken' }, classification: 'public' });
    const before = await outboxCount();
    const rolled = await configs.rollback(admin, { ...ref, version: 1, expectedVersion: 2 });
    expect(rolled).toMatchObject({ version: 3, value: { model: 'gpt-4o' }, classification: 'confidential', deleted: false });
    expect(await outboxCount()).toBe(before + 1);
    const [event] = await database.dataSource.query(
      `SELECT subject FROM ${CONFIG_MANAGER_SCHEMA}.outbox ORDER BY seq DESC LIMIT 1`,
    );
    expect(event.subject).toBe('events.config-manager.config.rolled_back');
    expect((await configs.get(admin, ref)).entry.value).toEqual({ model: 'gpt-4o' });
    expect((await failure(configs.rollback(admin, { ...ref, version: 1, expectedVersion: 2 }))).code).toBe(ConfigExceptionCode.VersionConflict);
    expect((await failure(configs.rollback(admin, { ...ref, version: 9 }))).code).toBe(ConfigExceptionCode.NotFound);
    expect((await failure(configs.rollback(admin, { ...ref, version: 0 }))).field).toBe('version');
    await configs.delete(admin, ref);
    expect((await failure(configs.rollback(admin, { ...ref, version: 4 }))).message).toContain('deleted the key');
    expect((await configs.rollback(admin, { ...ref, version: 2 })).value).toEqual({ model: 'broken' });
  });

  it('undeletes a deleted key with its last value, and refuses a live one', async () => {
    const ref = { namespace: 'team/undelete', key: 'flag', environment: 'development' };
    await configs.set(admin, { ...ref, value: true });
    expect((await failure(configs.undelete(admin, ref))).code).toBe(ConfigExceptionCode.Conflict);
    await configs.delete(admin, ref);
    await expect(configs.get(admin, { ...ref, exact: true })).rejects.toMatchObject({ code: ConfigExceptionCode.NotFound });
    const restored = await configs.undelete(admin, { ...ref, expectedVersion: 2 });
    expect(restored).toMatchObject({ version: 3, value: true, deleted: false });
    expect((await configs.get(admin, { ...ref, exact: true })).entry.version).toBe(3);
    expect((await failure(configs.undelete(admin, { ...ref, key: 'missing' }))).code).toBe(ConfigExceptionCode.NotFound);
  });

  it('reserves the words the API puts after a key path as key names', async () => {
    const error = await failure(configs.set(admin, { namespace: 'team/history', key: 'rollback', environment: 'development', value: 1 }));
    expect(error).toMatchObject({ code: ConfigExceptionCode.InvalidPath, field: 'key' });
    expect(error.message).toContain('reserved');
    // A namespace segment may be one: only the last segment of a path is read as an action.
    expect((await configs.set(admin, { namespace: 'watch/history', key: 'k', environment: 'development', value: 1 })).version).toBe(1);
  });

  it('keeps a path a key or a namespace, never both, and lists what a namespace holds', async () => {
    await configs.set(admin, { namespace: 'fs/app', key: 'model', environment: 'development', value: 'gpt-4o' });
    await configs.set(admin, { namespace: 'fs/app/prompts', key: 'greeting', environment: 'staging', value: 'hi' });
    await configs.set(admin, { namespace: 'fs/app_x', key: 'other', environment: 'development', value: 1 });
    const overNamespace = await failure(configs.set(admin, { namespace: 'fs/app', key: 'prompts', environment: 'development', value: 1 }));
    expect(overNamespace).toMatchObject({ code: ConfigExceptionCode.Conflict, field: 'key' });
    expect(overNamespace.message).toContain('fs/app/prompts is a namespace');
    const underKey = await failure(configs.set(admin, { namespace: 'fs/app/model', key: 'temperature', environment: 'development', value: 1 }));
    expect(underKey).toMatchObject({ code: ConfigExceptionCode.Conflict, field: 'namespace' });
    expect(underKey.message).toContain('fs/app/model is a key');
    // An existing key is written again without the check; a deleted key keeps its path a key.
    expect((await configs.set(admin, { namespace: 'fs/app', key: 'model', environment: 'production', value: 'x' })).version).toBe(1);
    await configs.delete(admin, { namespace: 'fs/app', key: 'model', environment: 'development' });
    expect((await failure(configs.set(admin, { namespace: 'fs/app/model', key: 'k', environment: 'development', value: 1 }))).code).toBe(
      ConfigExceptionCode.Conflict,
    );
    expect(await configs.childNamespaces(admin, 'fs', 'development')).toEqual(['app', 'app_x']);
    expect(await configs.childNamespaces(admin, 'fs/app', 'development')).toEqual(['prompts']);
    expect(await configs.childNamespaces(admin, 'fs/app/prompts', 'development')).toEqual([]);
  });

  it('validates every write against the nearest namespace schema, by key pattern first', async () => {
    await settings.set(admin, {
      namespace: 'schema-ns',
      schema: { type: 'object', required: ['model'], properties: { model: { type: 'string' }, temperature: { type: 'number', maximum: 2 } } },
      keySchemas: { 'limit*': { type: 'integer', minimum: 1 } },
    });
    const ref = { namespace: 'schema-ns/chatbot', environment: 'development' };
    expect((await configs.set(admin, { ...ref, key: 'model', value: { model: 'gpt-4o', temperature: 0.3 } })).version).toBe(1);
    const bad = await failure(configs.set(admin, { ...ref, key: 'model', value: { temperature: 3 } }));
    expect(bad).toMatchObject({ code: ConfigExceptionCode.InvalidValue, field: 'value' });
    expect(bad.message).toContain("must have required property 'model'");
    expect(bad.message).toContain('/temperature must be <= 2');
    expect((await configs.set(admin, { ...ref, key: 'limit_rpm', value: 60 })).version).toBe(1);
    expect((await failure(configs.set(admin, { ...ref, key: 'limit_rpm', value: 0 }))).message).toContain('must be >= 1');
    const results = await settings.validate(admin, 'schema-ns/chatbot', { model: { model: 'x' }, limit_tpm: 'lots' });
    expect(results).toEqual([
      { key: 'model', problems: [] },
      { key: 'limit_tpm', problems: [{ path: '', message: 'must be integer' }] },
    ]);
    // A rollback must satisfy today's schema too.
    await settings.set(admin, { namespace: 'schema-ns', schema: { type: 'object', required: ['model', 'owner'] }, expectedVersion: 1 });
    await configs.set(admin, { ...ref, key: 'model', value: { model: 'gpt-4o', owner: 'ml' } });
    expect((await failure(configs.rollback(admin, { ...ref, key: 'model', version: 1 }))).message).toContain("'owner'");
  });

  it('checks a write against the schema committed while it waited for the write lock, alone or in a bulk', async () => {
    await settings.set(admin, { namespace: 'schema-race', schema: { type: 'number' } });
    const writes = {
      alone: () => configs.set(admin, { namespace: 'schema-race', key: 'alone', environment: 'base', value: 5 }),
      batched: () => configs.bulk(admin, [{ kind: 'set', namespace: 'schema-race', key: 'batched', environment: 'base', value: 5 }]),
    };
    for (const [key, write] of Object.entries(writes)) {
      // Another writer holds the lock config and settings writes queue on, and tightens the schema before letting go.
      const holder = database.dataSource.createQueryRunner();
      await holder.connect();
      try {
        await holder.startTransaction();
        await holder.query(`SELECT value FROM ${CONFIG_MANAGER_SCHEMA}.revision_counter FOR UPDATE`);
        const refused = failure(write());
        // Asked on another connection: inside the holder's transaction pg_stat_activity would stay as first read.
        await waitFor(
          async () =>
            (await database.dataSource.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).length > 0,
          { message: `timed out waiting for the ${key} write to queue on the lock` },
        );
        await holder.query(`UPDATE ${CONFIG_MANAGER_SCHEMA}.namespace_settings SET schema = '{"type": "number", "maximum": 1}' WHERE namespace = 'schema-race'`);
        await holder.commitTransaction();
        expect((await refused).code).toBe(ConfigExceptionCode.InvalidValue);
      } finally {
        await holder.release();
      }
      expect((await failure(configs.get(admin, { namespace: 'schema-race', key, environment: 'base' }))).code).toBe(ConfigExceptionCode.NotFound);
      await settings.set(admin, { namespace: 'schema-race', schema: { type: 'number' } });
    }
  });

  it('refuses settings that are not JSON Schemas, repeat environments, or race', async () => {
    expect((await failure(settings.set(admin, { namespace: 'bad-settings', schema: { type: 'no-such-type' } }))).field).toBe('schema');
    expect((await failure(settings.set(admin, { namespace: 'bad-settings', environments: ['dev', 'dev'] }))).field).toBe('environments');
    expect((await failure(settings.set(admin, { namespace: 'bad-settings', keySchemas: { 'Bad Pattern': true } }))).field).toBe('key_schemas');
    expect((await failure(settings.set(developer, { namespace: 'bad-settings', schema: true }))).code).toBe(ConfigExceptionCode.PermissionDenied);
    // Two namespaces may give their schemas the same $id.
    for (const namespace of ['same-id-a', 'same-id-b']) {
      await settings.set(admin, { namespace, schema: { $id: 'https://schemas.example/model', type: 'number' } });
      await configs.set(admin, { namespace, key: 'n', environment: 'base', value: 1 });
    }
    // A schema that recurses without end makes the write a 400, not a server error.
    await settings.set(admin, { namespace: 'self-ref', schema: { allOf: [{ $ref: '#' }] } });
    const recursing = await failure(configs.set(admin, { namespace: 'self-ref', key: 'k', environment: 'base', value: 1 }));
    expect(recursing).toMatchObject({ code: ConfigExceptionCode.InvalidValue, field: 'value' });
    expect(recursing.message).toContain('could not be checked against the schema: the schema recurses without end');
    const racing = await Promise.allSettled([1, 2].map(() => settings.set(admin, { namespace: 'raced', schema: true, expectedVersion: 0 })));
    expect(racing.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await failure(settings.set(admin, { namespace: 'never-set', schema: true, expectedVersion: 2 }))).code).toBe(
      ConfigExceptionCode.VersionConflict,
    );
    expect((await settings.effective('never-set')).definedAt).toBeUndefined();
  });

  it("resolves reads through a namespace's own environment chain", async () => {
    await settings.set(admin, { namespace: 'chain-ns', environments: ['base', 'dev', 'prod'] });
    await configs.set(admin, { namespace: 'chain-ns/app', key: 'model', environment: 'dev', value: 'from-dev' });
    const read = await configs.get(admin, { namespace: 'chain-ns/app', key: 'model', environment: 'prod' });
    expect(read).toMatchObject({ resolvedFrom: 'dev', entry: { value: 'from-dev' } });
    // Reads cache settings; a change made here applies to the very next read, below the namespace too.
    await settings.set(admin, { namespace: 'chain-ns', environments: ['base', 'prod'], expectedVersion: 1 });
    await expect(configs.get(admin, { namespace: 'chain-ns/app', key: 'model', environment: 'prod' })).rejects.toMatchObject({
      code: ConfigExceptionCode.NotFound,
    });
    expect((await settings.effective('chain-ns/app/deeper')).definedAt).toBe('chain-ns');
    expect((await settings.effective('elsewhere')).definedAt).toBeUndefined();
  });

  it('applies bulk operations in one transaction, in order, all or nothing', async () => {
    const ref = { namespace: 'bulk-ns/app', environment: 'development' };
    await configs.set(admin, { ...ref, key: 'old', value: 1 });
    const before = await outboxCount();
    const entries = await configs.bulk(admin, [
      { kind: 'set', ...ref, key: 'a', value: 'first' },
      { kind: 'set', ...ref, key: 'a', value: 'second', expectedVersion: 1 },
      { kind: 'delete', ...ref, key: 'old' },
    ]);
    expect(entries.map((e) => [e.key, e.version, e.deleted])).toEqual([['a', 1, false], ['a', 2, false], ['old', 2, true]]);
    expect(entries.map((e) => e.revision)).toEqual([...entries.map((e) => e.revision)].sort((x, y) => x - y));
    expect(await outboxCount()).toBe(before + 3);

    const failed = await failure(
      configs.bulk(admin, [
        { kind: 'set', ...ref, key: 'b', value: 'never' },
        { kind: 'set', ...ref, key: 'a', value: 'stale', expectedVersion: 1 },
      ]),
    );
    expect(failed).toMatchObject({ code: ConfigExceptionCode.VersionConflict, field: 'operations[1].expected_version' });
    expect(failed.message).toMatch(/^operation 1: /);
    await expect(configs.get(admin, { ...ref, key: 'b', exact: true })).rejects.toMatchObject({ code: ConfigExceptionCode.NotFound });
    expect(await outboxCount()).toBe(before + 3);

    const denied = await failure(
      configs.bulk(developer, [
        { kind: 'set', ...ref, key: 'c', value: 1 },
        { kind: 'set', namespace: 'bulk-ns/app', key: 'c', environment: 'production', value: 1 },
      ]),
    );
    expect(denied).toMatchObject({ code: ConfigExceptionCode.PermissionDenied, field: 'operations[1]' });
    expect((await failure(configs.bulk(admin, []))).field).toBe('operations');
    expect((await failure(configs.bulk(admin, [{ kind: 'set', ...ref, key: 'Bad Key', value: 1 }]))).field).toBe('operations[0].key');
  });

  it('holds keys named like an LLM kind to that kind even when written through the plain configs API', async () => {
    const ref = { namespace: 'kinds/app', environment: 'production' };
    const plaintext = await failure(
      configs.set(admin, { ...ref, key: 'endpoint.gpt', value: { provider: 'openai', model: 'gpt-4o', api_key: 'sk-plain-text-key-0123456789' } }),
    );
    expect(plaintext).toMatchObject({ code: ConfigExceptionCode.InvalidValue, field: 'value.api_key' });
    expect(plaintext.message).not.toContain('sk-plain-text-key');
    await configs.set(admin, { ...ref, key: 'endpoint.gpt', value: { provider: 'openai', model: 'gpt-4o', api_key: { $secret: 'kinds/openai' } } });
    const bulk = await failure(configs.bulk(admin, [{ kind: 'set', ...ref, key: 'preset.hot', value: { temperature: 7 } }]));
    expect(bulk).toMatchObject({ code: ConfigExceptionCode.InvalidValue });
    expect(bulk.field).toMatch(/^operations\[0\]\.value/);
    // Other keys are not held to any kind.
    await configs.set(admin, { ...ref, key: 'endpoints', value: { api_key: 'not-a-kind' } });
  });

  it('brings a commit to a waiting watch through the shared change feed at once, and ends the wait on abort', async () => {
    const { changeFeed } = configs;
    await changeFeed.join();
    try {
      const start = await configs.currentRevision();
      expect(changeFeed.since(start)).toEqual({ changes: [], scannedTo: start });
      const controller = new AbortController();
      // The backstop poll is far longer than the test's own timeout here: only the commit can end this wait in time.
      const woken = changeFeed.waitPast(start, controller.signal);
      const written = await configs.set(admin, { namespace: 'wake/app', key: 'k', environment: 'development', value: 1 });
      await expect(woken).resolves.toBeUndefined();
      const slice = changeFeed.since(start);
      expect(slice?.changes.map((change) => [change.revision, change.namespace, change.key, change.value])).toEqual([
        [written.revision, 'wake/app', 'k', 1],
      ]);
      expect(slice?.scannedTo).toBe(written.revision);
      // From memory, the same rows the database holds.
      expect(slice?.changes).toEqual((await configs.changesSince(admin, 'wake/app', start)).changes);
      const aborted = changeFeed.waitPast(written.revision, controller.signal);
      controller.abort();
      await expect(aborted).resolves.toBeUndefined();
    } finally {
      changeFeed.leave();
    }
  });
});
