import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RedisCacheLayer } from '@llmops/platform-cache';
import { Outbox } from '@llmops/platform-messaging';
import { openDatabase, type Database } from '@llmops/platform-persistence';
import { createTestDatabase, RedisServerProcess, type TestDatabase, uniqueName, waitFor } from '@llmops/platform-testing';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { CONFIG_MANAGER_MIGRATIONS } from '../config-manager.host.js';
import { CONFIG_MANAGER_SCHEMA } from '../migrations/1763800000000-CreateConfigEntries.js';
import { NamespaceSettingsService } from '../namespace-settings/namespace-settings.service.js';
import { ConfigEntryEntity } from './config-entry.entity.js';
import { ConfigsService, type ConfigActor, type ConfigKeyRef } from './configs.service.js';
import { ConfigExceptionCode } from './exceptions/config.exception.js';

const admin: ConfigActor = { principal: { id: 'admin-1', type: 'user', roles: ['global-admin'] }, requestId: 'r1' };

/** One config-manager replica: its own pool, Redis connections, caches and metrics, as a separate process has. */
interface Replica {
  registry: Registry;
  layer: RedisCacheLayer;
  settings: NamespaceSettingsService;
  configs: ConfigsService;
  close(): Promise<void>;
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
  const sample = metric?.values.find((value) => Object.entries(labels).every(([label, expected]) => value.labels[label] === expected));
  return sample?.value ?? 0;
}

describe('ConfigsService replicas sharing one database and one Redis', () => {
  let testDatabase: TestDatabase;
  let redisServer: RedisServerProcess;
  let a: Replica;
  let b: Replica;
  const keyPrefix = `${uniqueName('cm_replicas')}:`;

  async function startReplica(): Promise<Replica> {
    const database: Database = await openDatabase({
      service: 'config-manager',
      schema: CONFIG_MANAGER_SCHEMA,
      url: testDatabase.url,
      entities: [ConfigEntryEntity],
      migrations: CONFIG_MANAGER_MIGRATIONS,
    });
    const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 50 });
    redis.on('error', () => undefined);
    const registry = new Registry();
    const layer = new RedisCacheLayer({ redis, keyPrefix, registry, breakerResetMs: 200, resyncRetryMs: 100 });
    const outbox = new Outbox({ source: 'config-manager', schema: CONFIG_MANAGER_SCHEMA });
    const options = { registry, sharedCache: layer };
    const settings = new NamespaceSettingsService(database, outbox, options);
    return {
      registry,
      layer,
      settings,
      configs: new ConfigsService(database, outbox, settings, options),
      close: async () => {
        layer.close();
        redis.disconnect();
        await database.close();
      },
    };
  }

  const coherent = (): Promise<boolean> =>
    waitFor(() => a.layer.coherent && b.layer.coherent, { timeoutMs: 10_000, message: 'replicas did not reconnect to redis' });

  /** What `replica` reads: the value, or the error code. */
  const read = async (replica: Replica, ref: ConfigKeyRef): Promise<unknown> => {
    try {
      return (await replica.configs.get(admin, ref)).entry.value;
    } catch (error) {
      return (error as { code?: string }).code;
    }
  };

  /** Polls B: the write must reach it through the invalidation message, long before any TTL (minutes here). */
  const seenOn = (replica: Replica, ref: ConfigKeyRef, expected: unknown): Promise<boolean> =>
    waitFor(async () => JSON.stringify(await read(replica, ref)) === JSON.stringify(expected), {
      timeoutMs: 1_000,
      intervalMs: 5,
      message: `replica did not see ${JSON.stringify(expected)} for ${ref.namespace}/${ref.key}`,
    });

  beforeAll(async () => {
    testDatabase = await createTestDatabase({ prefix: 'configs_replicas' });
    redisServer = await RedisServerProcess.start();
    a = await startReplica();
    b = await startReplica();
    await coherent();
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redisServer?.dispose();
    await testDatabase?.drop();
  });

  it('shows a write on A to a read on B at once, in every environment that resolves to it', async () => {
    const staging = { namespace: 'acme/replicas', key: 'model', environment: 'staging' };
    const production = { ...staging, environment: 'production' };
    await a.configs.set(admin, { ...staging, value: 'gpt-4o' });
    expect(await read(b, production)).toBe('gpt-4o');
    expect(await read(b, production)).toBe('gpt-4o');
    await a.configs.set(admin, { ...staging, value: 'claude' });
    await seenOn(b, production, 'claude');
    await seenOn(b, staging, 'claude');

    await a.configs.set(admin, { ...production, value: 'o3' });
    await seenOn(b, production, 'o3');
    await a.configs.delete(admin, production);
    await seenOn(b, production, 'claude');
    await a.configs.undelete(admin, production);
    await seenOn(b, production, 'o3');
    await a.configs.rollback(admin, { ...staging, version: 1 });
    await seenOn(b, staging, 'gpt-4o');
    await a.configs.bulk(admin, [{ kind: 'delete', ...production }, { kind: 'set', ...staging, value: 'bulk' }]);
    await seenOn(b, production, 'bulk');
  });

  it('applies a settings change on A to reads on B below the namespace', async () => {
    const ref = { namespace: 'chain/app/deep', key: 'limit', environment: 'prod' };
    await a.settings.set(admin, { namespace: 'chain', environments: ['base', 'dev', 'prod'] });
    await a.configs.set(admin, { ...ref, environment: 'dev', value: 10 });
    expect(await read(b, ref)).toBe(10);
    await a.settings.set(admin, { namespace: 'chain', environments: ['base', 'prod'], expectedVersion: 1 });
    await seenOn(b, ref, ConfigExceptionCode.NotFound);
    await a.settings.set(admin, { namespace: 'chain/app', environments: ['base', 'dev', 'prod'] });
    await seenOn(b, ref, 10);
  });

  it('counts operations by a bounded namespace label and reports the hit ratio per layer', async () => {
    const ref = { namespace: 'metrics/app/deeper/still', key: 'flag', environment: 'base' };
    const okGets = (replica: Replica): Promise<number> =>
      metricValue(replica.registry, 'config_operations_total', { operation: 'get', namespace: 'metrics/app', status: 'ok' });
    await a.configs.set(admin, { ...ref, value: true });
    expect(await metricValue(a.registry, 'config_operations_total', { operation: 'set', namespace: 'metrics/app', status: 'ok' })).toBe(1);
    expect(await read(b, { ...ref, key: 'missing' })).toBe(ConfigExceptionCode.NotFound);
    expect(await metricValue(b.registry, 'config_operations_total', { operation: 'get', namespace: 'metrics/app', status: 'not_found' })).toBe(1);
    expect(await read(b, { ...ref, namespace: 'Bad/Name' })).toBe(ConfigExceptionCode.InvalidPath);
    expect(await metricValue(b.registry, 'config_operations_total', { operation: 'get', namespace: '(invalid)', status: 'invalid_path' })).toBe(1);

    const l2HitsBefore = await metricValue(b.registry, 'cache_lookups_total', { cache: 'config-latest.v1', layer: 'l2', result: 'hit' });
    await read(a, ref);
    await read(b, ref);
    // A loaded the key from the database into Redis; B found it there.
    expect(await metricValue(b.registry, 'cache_lookups_total', { cache: 'config-latest.v1', layer: 'l2', result: 'hit' })).toBe(l2HitsBefore + 1);
    const l1RatioBefore = await metricValue(b.registry, 'cache_hit_ratio', { cache: 'config-latest.v1', layer: 'l1' });
    for (let i = 0; i < 20; i++) await read(b, ref);
    expect(await metricValue(b.registry, 'cache_hit_ratio', { cache: 'config-latest.v1', layer: 'l1' })).toBeGreaterThan(l1RatioBefore);
    expect(await okGets(b)).toBeGreaterThanOrEqual(21);
  });

  // An invariant under load; the exact interleaving of the stale-fill race is staged in platform-cache's specs.
  it('stays coherent with the database under concurrent reads and writes on both replicas', async () => {
    const ref = { namespace: 'race/app', key: 'counter', environment: 'base' };
    await a.configs.set(admin, { ...ref, value: 0 });
    for (let i = 1; i <= 40; i++) {
      // B's read may load the old row just before A's commit and try to cache it after A's invalidation.
      await Promise.all([read(b, ref), read(b, ref), a.configs.set(admin, { ...ref, value: i }), read(a, ref)]);
      await seenOn(b, ref, i);
      expect(await read(a, ref)).toBe(i);
    }
  });

  it('keeps reads and writes working on both replicas while Redis is down, and is coherent once it is back', async () => {
    const ref = { namespace: 'outage/app', key: 'model', environment: 'base' };
    await a.configs.set(admin, { ...ref, value: 'before' });
    expect(await read(a, ref)).toBe('before');
    expect(await read(b, ref)).toBe('before');

    await redisServer.kill();
    await waitFor(() => !a.layer.coherent && !b.layer.coherent);
    await a.configs.set(admin, { ...ref, value: 'written on A during the outage' });
    await b.configs.set(admin, { ...ref, key: 'other', value: 'written on B during the outage' });
    expect(await read(a, ref)).toBe('written on A during the outage');
    expect(await read(b, { ...ref, key: 'other' })).toBe('written on B during the outage');
    for (let i = 0; i < 10; i++) expect(await read(b, { ...ref, key: `absent${i}` })).toBe(ConfigExceptionCode.NotFound);

    await redisServer.restart();
    await coherent();
    expect(await read(b, ref)).toBe('written on A during the outage');
    expect(await read(a, { ...ref, key: 'other' })).toBe('written on B during the outage');
    await a.configs.set(admin, { ...ref, value: 'after' });
    await seenOn(b, ref, 'after');
  });
});
