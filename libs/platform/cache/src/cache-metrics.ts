import { getOrCreateCounter, getOrCreateGauge } from '@llmops/platform-observability';
import type { Counter, Gauge, Registry } from 'prom-client';

export type CacheLayerName = 'l1' | 'l2';

/** Why every local (L1) entry was dropped at once. */
export type CoherenceResetReason = 'subscribed' | 'breaker_closed' | 'epoch_changed';

/** Every cache's metrics per registry: lookups are counted in plain fields and published when the registry is read. */
const cachesByRegistry = new WeakMap<Registry, Set<CacheMetrics>>();

/**
 * The metrics of one named cache. The registry's default labels (service) tell replicas' processes apart. Lookups,
 * on every read's hot path, only bump two numbers: `cache_lookups_total` and `cache_hit_ratio` are brought up to date
 * when the registry is scraped (prom-client hashes labels on every inc()/set(), which cost more than the lookup).
 */
export class CacheMetrics {
  private readonly invalidations: Counter<'cache' | 'origin'>;
  private readonly discardedFills: Counter<'cache' | 'layer'>;
  private readonly l1Entries: Gauge<'cache'>;
  private readonly counts: Record<CacheLayerName, { hits: number; misses: number }> = {
    l1: { hits: 0, misses: 0 },
    l2: { hits: 0, misses: 0 },
  };
  /** What `cache_lookups_total` already holds of `counts`. */
  private readonly published: Record<CacheLayerName, { hits: number; misses: number }> = {
    l1: { hits: 0, misses: 0 },
    l2: { hits: 0, misses: 0 },
  };

  constructor(
    registry: Registry,
    private readonly cache: string,
  ) {
    let caches = cachesByRegistry.get(registry);
    if (!caches) cachesByRegistry.set(registry, (caches = new Set()));
    caches.add(this);
    getOrCreateCounter(registry, {
      name: 'cache_lookups_total',
      help: 'Cache lookups by layer and result (hit, miss); rate() of these gives the recent hit ratio',
      labelNames: ['cache', 'layer', 'result'],
      collect() {
        for (const metrics of cachesByRegistry.get(registry) ?? []) metrics.publishLookups(this);
      },
    });
    getOrCreateGauge(registry, {
      name: 'cache_hit_ratio',
      help: 'Hits / lookups per layer since the process started (l2 counts only lookups that reached Redis)',
      labelNames: ['cache', 'layer'],
      collect() {
        for (const metrics of cachesByRegistry.get(registry) ?? []) metrics.publishHitRatio(this);
      },
    });
    this.invalidations = getOrCreateCounter(registry, {
      name: 'cache_invalidations_total',
      help: 'Keys invalidated, by origin: local (a write on this process) or peer (a message from another replica)',
      labelNames: ['cache', 'origin'],
    });
    this.discardedFills = getOrCreateCounter(registry, {
      name: 'cache_fills_discarded_total',
      help: 'Loaded values not stored because an invalidation overtook the load (stale fills prevented)',
      labelNames: ['cache', 'layer'],
    });
    this.l1Entries = getOrCreateGauge(registry, {
      name: 'cache_l1_entries',
      help: 'Entries held in the in-process (L1) cache',
      labelNames: ['cache'],
    });
  }

  lookup(layer: CacheLayerName, hit: boolean): void {
    const count = this.counts[layer];
    if (hit) count.hits++;
    else count.misses++;
  }

  /** Adds the lookups counted since the last scrape to `cache_lookups_total`. */
  publishLookups(counter: Counter<'cache' | 'layer' | 'result'>): void {
    for (const layer of ['l1', 'l2'] as const) {
      const { hits, misses } = this.counts[layer];
      const published = this.published[layer];
      if (hits > published.hits) counter.inc({ cache: this.cache, layer, result: 'hit' }, hits - published.hits);
      if (misses > published.misses) counter.inc({ cache: this.cache, layer, result: 'miss' }, misses - published.misses);
      this.published[layer] = { hits, misses };
    }
  }

  publishHitRatio(gauge: Gauge<'cache' | 'layer'>): void {
    for (const layer of ['l1', 'l2'] as const) {
      const { hits, misses } = this.counts[layer];
      if (hits + misses > 0) gauge.set({ cache: this.cache, layer }, hits / (hits + misses));
    }
  }

  invalidated(origin: 'local' | 'peer', keys: number): void {
    this.invalidations.inc({ cache: this.cache, origin }, keys);
  }

  fillDiscarded(layer: CacheLayerName): void {
    this.discardedFills.inc({ cache: this.cache, layer });
  }

  entries(count: number): void {
    this.l1Entries.set({ cache: this.cache }, count);
  }
}

/** The metrics of the Redis layer every cache of a process shares. */
export class SharedLayerMetrics {
  private readonly up: Gauge;
  private readonly resets: Counter<'reason'>;

  constructor(registry: Registry) {
    this.up = getOrCreateGauge(registry, {
      name: 'cache_invalidation_bus_up',
      help: '1 while subscribed to cache invalidations with the Redis breaker closed; 0 = degraded (L1 entries trusted for a short TTL only)',
    });
    this.resets = getOrCreateCounter(registry, {
      name: 'cache_coherence_resets_total',
      help: 'Times every L1 entry was dropped because invalidations may have been missed',
      labelNames: ['reason'],
    });
  }

  setUp(up: boolean): void {
    this.up.set(up ? 1 : 0);
  }

  reset(reason: CoherenceResetReason): void {
    this.resets.inc({ reason });
  }
}
