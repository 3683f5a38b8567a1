export { CacheMetrics, SharedLayerMetrics, type CacheLayerName, type CoherenceResetReason } from './cache-metrics.js';
export {
  RedisCacheLayer,
  type CacheLogger,
  type CacheRegion,
  type L2FillOutcome,
  type L2Read,
  type RedisCacheLayerOptions,
} from './redis-cache-layer.js';
export { TwoLayerCache, type CacheCodec, type TwoLayerCacheOptions } from './two-layer-cache.js';
