import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { RedisServerProcess, TEST_REDIS_URL, uniqueName, waitFor } from '@llmops/platform-testing';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { RedisCacheLayer } from './redis-cache-layer.js';
import { TwoLayerCache } from './two-layer-cache.js';

/** One replica of a service: its own connection, layer, metrics and cache, as a separate process would have. */
interface Replica {
  registry: Registry;
  layer: RedisCacheLayer;
  cache: TwoLayerCache<string>;
  close(): void;
}

const opened: Replica[] = [];

function replica(redisUrl: string, keyPrefix: string, options: { degradedTtlMs?: number } = {}): Replica {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 50 });
  redis.on('error', () => undefined);
  const registry = new Registry();
  const layer = new RedisCacheLayer({ redis, keyPrefix, registry, breakerResetMs: 200, resyncRetryMs: 100 });
  const cache = new TwoLayerCache<string>({
    name: 'values',
    maxEntries: 100,
    ttlMs: 60_000,
    degradedTtlMs: options.degradedTtlMs,
    shared: layer,
    registry,
  });
  const created: Replica = {
    registry,
    layer,
    cache,
    close: () => {
      layer.close();
      redis.disconnect();
    },
  };
  opened.push(created);
  return created;
}

/** The database the caches front: a value per key, and how often each replica had to ask it. */
class Database {
  readonly values = new Map<string, string>();
  calls = 0;

  loader(key: string): () => Promise<string> {
    return async () => {
      this.calls++;
      return this.values.get(key) ?? 'missing';
    };
  }
}

function deferred<V>(): { promise: Promise<V>; resolve: (value: V) => void } {
  let resolve!: (value: V) => void;
  const promise = new Promise<V>((done) => (resolve = done));
  return { promise, resolve };
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
  const sample = metric?.values.find((value) => Object.entries(labels).every(([label, expected]) => value.labels[label] === expected));
  return sample?.value ?? 0;
}

const coherent = (...replicas: Replica[]): Promise<boolean> =>
  waitFor(() => replicas.every((r) => r.layer.coherent), { timeoutMs: 10_000, message: 'replicas did not become coherent' });

afterEach(() => {
  for (const r of opened.splice(0)) r.close();
});

describe(`${RedisCacheLayer.name} on the shared test Redis`, () => {
  const keyPrefix = `${uniqueName('test_platform_cache')}:`;
  const cleanup = new Redis(TEST_REDIS_URL);

  afterAll(async () => {
    const keys = await cleanup.keys(`${keyPrefix}*`);
    if (keys.length > 0) await cleanup.del(...keys);
    await cleanup.quit();
  });

  it('answers replica B from L2 what replica A loaded, and a write on A reaches B at once, not after the TTL', async () => {
    const [a, b] = [replica(TEST_REDIS_URL, keyPrefix), replica(TEST_REDIS_URL, keyPrefix)];
    await coherent(a, b);
    const db = new Database();
    db.values.set('model', 'gpt-4o');
    expect(await a.cache.get('model', db.loader('model'))).toBe('gpt-4o');
    expect(await b.cache.get('model', db.loader('model'))).toBe('gpt-4o');
    expect(db.calls).toBe(1);
    expect(await metricValue(b.registry, 'cache_hit_ratio', { layer: 'l2' })).toBe(1);

    db.values.set('model', 'claude');
    const written = performance.now();
    await a.cache.invalidate(['model']);
    expect(await a.cache.get('model', db.loader('model'))).toBe('claude');
    await waitFor(async () => (await b.cache.get('model', db.loader('model'))) === 'claude', { timeoutMs: 1_000, intervalMs: 5 });
    // L1 lives a minute here: B saw the write through the invalidation message.
    expect(performance.now() - written).toBeLessThan(1_000);
    expect(await metricValue(b.registry, 'cache_invalidations_total', { origin: 'peer' })).toBe(1);
  });

  it('refuses an L2 fill when the key was invalidated after the reader looked', async () => {
    const [reader, writer] = [replica(TEST_REDIS_URL, keyPrefix), replica(TEST_REDIS_URL, keyPrefix)];
    await coherent(reader, writer);
    const seen = await reader.layer.read('values', 'race');
    expect(seen).toMatchObject({ value: undefined });
    await writer.layer.invalidate('values', ['race']);
    expect(await reader.layer.fill('values', 'race', seen!, '"old"', 60_000)).toBe('refused');
    const again = await reader.layer.read('values', 'race');
    expect(await reader.layer.fill('values', 'race', again!, '"new"', 60_000)).toBe('stored');
    expect((await writer.layer.read('values', 'race'))?.value).toBe('"new"');
  });

  it('does not let a load that read before a write store the old value on any layer', async () => {
    const [writer, reader] = [replica(TEST_REDIS_URL, keyPrefix), replica(TEST_REDIS_URL, keyPrefix)];
    await coherent(writer, reader);
    const db = new Database();
    db.values.set('limit', '10');
    const slowRead = deferred<string>();
    const pending = reader.cache.get('limit', () => slowRead.promise);
    db.values.set('limit', '20');
    await writer.cache.invalidate(['limit']);
    await waitFor(async () => (await metricValue(reader.registry, 'cache_invalidations_total', { origin: 'peer' })) === 1);
    slowRead.resolve('10');
    expect(await pending).toBe('10');

    const latecomer = replica(TEST_REDIS_URL, keyPrefix);
    await coherent(latecomer);
    expect(await latecomer.cache.get('limit', db.loader('limit'))).toBe('20');
    expect(await reader.cache.get('limit', db.loader('limit'))).toBe('20');
    expect(await metricValue(reader.registry, 'cache_fills_discarded_total', { layer: 'l1' })).toBe(1);
  });
});

describe(`${RedisCacheLayer.name} when Redis goes down`, () => {
  const servers: RedisServerProcess[] = [];

  afterAll(async () => {
    for (const server of servers) await server.dispose();
  });

  it('keeps reads and writes working without waiting on Redis, and is coherent again once Redis is back', async () => {
    const server = await RedisServerProcess.start();
    servers.push(server);
    const keyPrefix = `${uniqueName('cache_outage')}:`;
    // B trusts its L1 through the outage (to show the reconnect clearing it); C trusts it 100 ms only.
    const [a, b, c] = [
      replica(server.url, keyPrefix),
      replica(server.url, keyPrefix, { degradedTtlMs: 60_000 }),
      replica(server.url, keyPrefix, { degradedTtlMs: 100 }),
    ];
    await coherent(a, b, c);
    const db = new Database();
    db.values.set('k', 'v1');
    for (const r of [a, b, c]) expect(await r.cache.get('k', db.loader('k'))).toBe('v1');

    await server.kill();
    await waitFor(() => [a, b, c].every((r) => !r.layer.coherent));
    db.values.set('k', 'v2');
    let started = performance.now();
    await a.cache.invalidate(['k']);
    expect(performance.now() - started).toBeLessThan(200);
    started = performance.now();
    for (let i = 0; i < 20; i++) expect(await a.cache.get(`other-${i}`, db.loader(`other-${i}`))).toBe('missing');
    expect(performance.now() - started).toBeLessThan(500);
    expect(await a.cache.get('k', db.loader('k'))).toBe('v2');
    expect(await b.cache.get('k', db.loader('k'))).toBe('v1');
    await waitFor(async () => (await c.cache.get('k', db.loader('k'))) === 'v2', { timeoutMs: 1_000 });

    await server.restart();
    await coherent(a, b, c);
    for (const r of [a, b, c]) expect(await r.cache.get('k', db.loader('k'))).toBe('v2');
    expect(await metricValue(b.registry, 'cache_coherence_resets_total', { reason: 'subscribed' })).toBeGreaterThanOrEqual(2);

    db.values.set('k', 'v3');
    await a.cache.invalidate(['k']);
    await waitFor(async () => (await b.cache.get('k', db.loader('k'))) === 'v3', { timeoutMs: 1_000, intervalMs: 5 });
  });

  it('starts a new epoch when an invalidation could not reach a Redis that kept the old value', async () => {
    const server = await RedisServerProcess.start({ persistent: true });
    servers.push(server);
    const keyPrefix = `${uniqueName('cache_epoch')}:`;
    const [writer, reader] = [replica(server.url, keyPrefix), replica(server.url, keyPrefix)];
    await coherent(writer, reader);
    const db = new Database();
    db.values.set('k', 'v1');
    expect(await reader.cache.get('k', db.loader('k'))).toBe('v1');
    expect((await writer.layer.read('values', 'k'))?.value).toBe('"v1"');

    await server.kill();
    await waitFor(() => !writer.layer.coherent);
    db.values.set('k', 'v2');
    await writer.cache.invalidate(['k']);
    await server.restart();
    await coherent(writer, reader);
    await waitFor(async () => (await metricValue(reader.registry, 'cache_coherence_resets_total', { reason: 'epoch_changed' })) >= 1);

    // The restarted Redis still holds "v1" under the old epoch; nobody may be served it.
    const latecomer = replica(server.url, keyPrefix);
    await coherent(latecomer);
    const callsBefore = db.calls;
    expect(await latecomer.cache.get('k', db.loader('k'))).toBe('v2');
    expect(db.calls).toBe(callsBefore + 1);
    expect(await reader.cache.get('k', db.loader('k'))).toBe('v2');
  });
});
