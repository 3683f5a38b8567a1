import { describe, expect, it } from '@jest/globals';
import { sleep } from '@llmops/platform-testing';
import { Registry } from 'prom-client';
import { TwoLayerCache } from './two-layer-cache.js';

/** A loader that counts its calls and answers whatever `current` holds when it is called. */
function source<V>(initial: V): { current: V; calls: number; load: () => Promise<V> } {
  const state = {
    current: initial,
    calls: 0,
    load: async (): Promise<V> => {
      state.calls++;
      return state.current;
    },
  };
  return state;
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

describe(`${TwoLayerCache.name} in process only (no Redis)`, () => {
  const create = (registry = new Registry(), ttlMs = 60_000, maxEntries = 100): TwoLayerCache<string> =>
    new TwoLayerCache<string>({ name: 'test', maxEntries, ttlMs, registry });

  it('loads once, then answers from L1 until the key is invalidated', async () => {
    const registry = new Registry();
    const cache = create(registry);
    const db = source('v1');
    expect(await cache.get('k', db.load)).toBe('v1');
    expect(await cache.get('k', db.load)).toBe('v1');
    expect(await cache.get('k', db.load)).toBe('v1');
    expect(db.calls).toBe(1);
    db.current = 'v2';
    await cache.invalidate(['k']);
    expect(await cache.get('k', db.load)).toBe('v2');
    expect(db.calls).toBe(2);
    expect(await metricValue(registry, 'cache_lookups_total', { layer: 'l1', result: 'hit' })).toBe(2);
    expect(await metricValue(registry, 'cache_lookups_total', { layer: 'l1', result: 'miss' })).toBe(2);
    expect(await metricValue(registry, 'cache_hit_ratio', { cache: 'test', layer: 'l1' })).toBe(0.5);
    expect(await metricValue(registry, 'cache_invalidations_total', { origin: 'local' })).toBe(1);
    // Lookups are published when the registry is read: a later read adds only what came since, for every cache.
    const other = new TwoLayerCache<string>({ name: 'other', maxEntries: 10, ttlMs: 60_000, registry });
    await other.get('k', db.load);
    expect(await cache.get('k', db.load)).toBe('v2');
    expect(await metricValue(registry, 'cache_lookups_total', { cache: 'test', layer: 'l1', result: 'hit' })).toBe(3);
    expect(await metricValue(registry, 'cache_lookups_total', { cache: 'other', layer: 'l1', result: 'miss' })).toBe(1);
    expect(await metricValue(registry, 'cache_hit_ratio', { cache: 'test', layer: 'l1' })).toBe(0.6);
    expect(await metricValue(registry, 'cache_hit_ratio', { cache: 'other', layer: 'l1' })).toBe(0);
  });

  it('shares one load between concurrent misses of a key', async () => {
    const cache = create();
    const db = source('v1');
    const results = await Promise.all([1, 2, 3, 4].map(() => cache.get('k', db.load)));
    expect(results).toEqual(['v1', 'v1', 'v1', 'v1']);
    expect(db.calls).toBe(1);
  });

  it('does not store what a load read before a write that committed while it ran', async () => {
    const registry = new Registry();
    const cache = create(registry);
    const slowRead = deferred<string>();
    const before = cache.get('k', () => slowRead.promise);
    // The write commits and invalidates while the read is still loading the old value.
    await cache.invalidate(['k']);
    const db = source('v2');
    expect(await cache.get('k', db.load)).toBe('v2');
    slowRead.resolve('v1');
    expect(await before).toBe('v1');
    expect(await cache.get('k', db.load)).toBe('v2');
    expect(db.calls).toBe(1);
    expect(await metricValue(registry, 'cache_fills_discarded_total', { layer: 'l1' })).toBe(1);
  });

  it('does not cache a failed load', async () => {
    const cache = create();
    await expect(cache.get('k', async () => Promise.reject(new Error('database down')))).rejects.toThrow('database down');
    expect(await cache.get('k', source('v1').load)).toBe('v1');
  });

  it('holds at most maxEntries, evicting the least recently used', async () => {
    const registry = new Registry();
    const cache = create(registry, 60_000, 2);
    const db = source('v');
    await cache.get('a', db.load);
    await cache.get('b', db.load);
    await cache.get('a', db.load);
    await cache.get('c', db.load);
    expect(db.calls).toBe(3);
    await cache.get('a', db.load);
    expect(db.calls).toBe(3);
    await cache.get('b', db.load);
    expect(db.calls).toBe(4);
    expect(await metricValue(registry, 'cache_l1_entries', { cache: 'test' })).toBe(2);
  });

  it('loads again once the TTL has passed, even without an invalidation', async () => {
    const cache = create(new Registry(), 50);
    const db = source('v1');
    await cache.get('k', db.load);
    db.current = 'v2';
    await sleep(80);
    expect(await cache.get('k', db.load)).toBe('v2');
  });
});
