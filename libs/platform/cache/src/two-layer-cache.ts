import { performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';
import type { Registry } from 'prom-client';
import { CacheMetrics } from './cache-metrics.js';
import type { CacheRegion, L2Read, RedisCacheLayer } from './redis-cache-layer.js';

export interface CacheCodec<V> {
  encode(value: V): string;
  decode(text: string): V;
}

export interface TwoLayerCacheOptions<V> {
  /** Unique per process; names the cache in metrics and in Redis keys. Change it when the value format changes. */
  name: string;
  /** Bound of the in-process (L1) cache. */
  maxEntries: number;
  /** L1 lifetime: a backstop, since invalidations drop entries as soon as a write commits. */
  ttlMs: number;
  /** Redis (L2) and cross-replica invalidation; without it the cache is in-process only (one replica). */
  shared?: RedisCacheLayer;
  /** L2 lifetime, also a backstop. Default twice `ttlMs`. */
  sharedTtlMs?: number;
  /** While invalidations may be missed (Redis unreachable), L1 entries older than this are loaded again. Default 1000 ms. */
  degradedTtlMs?: number;
  /** How values travel through Redis. Default JSON. */
  codec?: CacheCodec<V>;
  registry: Registry;
}

interface L1Entry<V> {
  value: V;
  storedAt: number;
}

/** A load under way. `stale` is set when the key is invalidated meanwhile: its result is then returned, never stored. */
interface Flight<V> {
  stale: boolean;
  result: Promise<V>;
}

const jsonCodec: CacheCodec<never> = { encode: (value) => JSON.stringify(value), decode: (text) => JSON.parse(text) as never };

/**
 * Read-through cache in two layers: L1 in process (bounded LRU with a TTL), then L2 in Redis, then the loader. A
 * write calls `invalidate` after it commits; every replica then drops its L1 entry. Concurrent misses of one key
 * share one load. Values are shared between callers: treat them as read-only.
 *
 * Stale fills: a load that began before a write committed must not store its result after the write's invalidation.
 * In this process the invalidation marks the load stale; in Redis the fill is refused because the key's generation
 * moved (see RedisCacheLayer).
 */
export class TwoLayerCache<V> implements CacheRegion {
  readonly name: string;
  private readonly l1: LRUCache<string, L1Entry<V>>;
  private readonly inFlight = new Map<string, Flight<V>>();
  private readonly shared: RedisCacheLayer | undefined;
  private readonly sharedTtlMs: number;
  private readonly degradedTtlMs: number;
  private readonly codec: CacheCodec<V>;
  private readonly metrics: CacheMetrics;

  constructor(options: TwoLayerCacheOptions<V>) {
    this.name = options.name;
    this.l1 = new LRUCache({ max: options.maxEntries, ttl: options.ttlMs });
    this.shared = options.shared;
    this.sharedTtlMs = options.sharedTtlMs ?? options.ttlMs * 2;
    this.degradedTtlMs = options.degradedTtlMs ?? 1_000;
    this.codec = options.codec ?? jsonCodec;
    this.metrics = new CacheMetrics(options.registry, options.name);
    this.metrics.entries(0);
    this.shared?.attach(options.name, this);
  }

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const cached = this.l1.get(key);
    if (cached && this.trusted(cached)) {
      this.metrics.lookup('l1', true);
      return cached.value;
    }
    this.metrics.lookup('l1', false);
    const joined = this.inFlight.get(key);
    if (joined) return joined.result;
    const flight = { stale: false } as Flight<V>;
    flight.result = this.fetch(key, load, flight).finally(() => {
      if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
    });
    this.inFlight.set(key, flight);
    return flight.result;
  }

  /** Call after the write commits. Never throws: Redis being down must not fail a committed write. */
  async invalidate(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    this.dropLocal(keys, 'local');
    if (!this.shared) return;
    await this.shared.invalidate(this.name, keys);
    // A read in this process may have refilled L1 from L2 before Redis deleted the old value there.
    this.forget(keys);
  }

  dropLocal(keys: readonly string[], origin: 'local' | 'peer'): void {
    this.forget(keys);
    this.metrics.invalidated(origin, keys.length);
  }

  clearLocal(): void {
    this.l1.clear();
    for (const flight of this.inFlight.values()) flight.stale = true;
    this.inFlight.clear();
    this.metrics.entries(0);
  }

  private forget(keys: readonly string[]): void {
    for (const key of keys) {
      this.l1.delete(key);
      const flight = this.inFlight.get(key);
      if (!flight) continue;
      flight.stale = true;
      // Later readers start a fresh load rather than join one that may have read the old value.
      this.inFlight.delete(key);
    }
    this.metrics.entries(this.l1.size);
  }

  private trusted(entry: L1Entry<V>): boolean {
    return !this.shared || this.shared.coherent || performance.now() - entry.storedAt <= this.degradedTtlMs;
  }

  private async fetch(key: string, load: () => Promise<V>, flight: Flight<V>): Promise<V> {
    const seen = await this.shared?.read(this.name, key);
    const fromL2 = seen ? this.decode(seen) : undefined;
    if (seen) this.metrics.lookup('l2', fromL2 !== undefined);
    if (fromL2 !== undefined) {
      this.remember(key, fromL2.value, flight);
      return fromL2.value;
    }
    const value = await load();
    if (this.remember(key, value, flight) && seen && this.shared) {
      const outcome = await this.shared.fill(this.name, key, seen, this.codec.encode(value), this.sharedTtlMs);
      if (outcome === 'refused') this.metrics.fillDiscarded('l2');
    }
    return value;
  }

  /** A value that no longer decodes (written by another version) counts as a miss and is replaced. */
  private decode(seen: L2Read): { value: V } | undefined {
    if (seen.value === undefined) return undefined;
    try {
      return { value: this.codec.decode(seen.value) };
    } catch {
      return undefined;
    }
  }

  private remember(key: string, value: V, flight: Flight<V>): boolean {
    if (flight.stale) {
      this.metrics.fillDiscarded('l1');
      return false;
    }
    this.l1.set(key, { value, storedAt: performance.now() });
    this.metrics.entries(this.l1.size);
    return true;
  }
}
