import { getOrCreateCounter, getOrCreateGauge } from '@llmops/platform-observability';
import type { Counter, Gauge, Registry } from 'prom-client';

export type CacheLayerName = 'l1' | 'l2';

/** Why every local (L1) entry was dropped at once. */
export type CoherenceResetReason = 'subscribed' | 'breaker_closed' | 'epoch_changed';

/** The metrics of one named cache. The registry's default labels (service) tell replicas' processes apart. */
export class CacheMetrics {
  private readonly lookups: Counter<'cache' | 'layer' | 'result'>;
  private readonly hitRatio: Gauge<'cache' | 'layer'>;
  private readonly invalidations: Counter<'cache' | 'origin'>;
  private readonly discardedFills: Counter<'cache' | 'layer'>;
  private readonly l1Entries: Gauge<'cache'>;
  private readonly counts: Record<CacheLayerName, { hits: number; misses: number }> = {
    l1: { hits: 0, misses: 0 },
    l2: { hits: 0, misses: 0 },
  };

  constructor(
    registry: Registry,
    private readonly cache: string,
  ) {
    this.lookups = getOrCreateCounter(registry, {
      name: 'cache_lookups_total',
      help: 'Cache lookups by layer and result (hit, miss); rate() of these gives the recent hit ratio',
      labelNames: ['cache', 'layer', 'result'],
    });
    this.hitRatio = getOrCreateGauge(registry, {
      name: 'cache_hit_ratio',
      help: 'Hits / lookups per layer since the process started (l2 counts only lookups that reached Redis)',
      labelNames: ['cache', 'layer'],
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
    this.lookups.inc({ cache: this.cache, layer, result: hit ? 'hit' : 'miss' });
    this.hitRatio.set({ cache: this.cache, layer }, count.hits / (count.hits + count.misses));
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
