import {
  assertCost,
  assertSlidingWindowOptions,
  slidingWindowResult,
  type RateLimiter,
  type RateLimitResult,
  type SlidingWindowOptions,
} from './rate-limiter.js';

export interface InMemorySlidingWindowOptions extends SlidingWindowOptions {
  /** Keys tracked at most; beyond it the least recently used key is forgotten. */
  maxKeys?: number;
}

/**
 * Sliding-window log per key in process memory: exact, and the same semantics as the Redis limiter, but per
 * instance. Memory is bounded by `maxKeys × limit` timestamps, and idle keys are swept once per window.
 */
export class InMemorySlidingWindowRateLimiter implements RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  private readonly maxKeys: number;
  /** Insertion order doubles as recency: a key is re-inserted on every use. Timestamps are ascending. */
  private readonly logs = new Map<string, number[]>();
  private lastSweep = 0;

  constructor(options: InMemorySlidingWindowOptions) {
    assertSlidingWindowOptions(options);
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  async consume(key: string, cost = 1): Promise<RateLimitResult> {
    assertCost(cost, this.limit);
    const now = Date.now();
    const cutoff = now - this.windowMs;
    this.sweepIdleKeys(now, cutoff);
    const log = this.logs.get(key) ?? [];
    this.logs.delete(key);
    dropUpTo(log, cutoff);

    let result: RateLimitResult;
    if (log.length + cost <= this.limit) {
      for (let i = 0; i < cost; i++) log.push(now);
      result = slidingWindowResult(this.limit, true, this.limit - log.length, 0, this.windowMs);
    } else {
      // The request fits once enough of the oldest entries have left the window.
      const blocking = log[log.length + cost - this.limit - 1]!;
      const newest = log[log.length - 1]!;
      result = slidingWindowResult(this.limit, false, this.limit - log.length, blocking + this.windowMs - now, newest + this.windowMs - now);
    }
    if (log.length > 0) this.logs.set(key, log);
    this.evictOverCapacity();
    return result;
  }

  /** Number of keys currently tracked. */
  get size(): number {
    return this.logs.size;
  }

  private sweepIdleKeys(now: number, cutoff: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [key, log] of this.logs) {
      if (log[log.length - 1]! <= cutoff) this.logs.delete(key);
    }
  }

  private evictOverCapacity(): void {
    for (const key of this.logs.keys()) {
      if (this.logs.size <= this.maxKeys) return;
      this.logs.delete(key);
    }
  }
}

/** Removes timestamps at or before `cutoff` from the front of an ascending log. */
function dropUpTo(log: number[], cutoff: number): void {
  let expired = 0;
  while (expired < log.length && log[expired]! <= cutoff) expired++;
  if (expired > 0) log.splice(0, expired);
}
