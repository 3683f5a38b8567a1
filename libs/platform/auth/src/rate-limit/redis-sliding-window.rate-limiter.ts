import { createHash, randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { InMemorySlidingWindowRateLimiter } from './in-memory-sliding-window.rate-limiter.js';
import {
  assertCost,
  assertSlidingWindowOptions,
  slidingWindowResult,
  type RateLimiter,
  type RateLimitResult,
  type SlidingWindowOptions,
} from './rate-limiter.js';

/** pino-compatible, so a service passes its own logger without this lib depending on one. */
export interface RateLimiterLogger {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

export interface RedisSlidingWindowOptions extends SlidingWindowOptions {
  redis: Redis | Cluster;
  /** Namespaces the keys, e.g. `llmops:rl:principal:`. */
  keyPrefix: string;
  /** A Redis call slower than this counts as Redis being down. */
  redisTimeoutMs?: number;
  logger?: RateLimiterLogger;
}

/**
 * Sliding-window log in a sorted set, evaluated atomically by one script. Time comes from Redis (TIME) so that
 * gateway instances with skewed clocks share one timeline; needs Redis ≥ 5 (effect replication).
 * KEYS[1] log; ARGV window ms, limit, cost, unique member id. Returns {allowed, remaining, retryAfterMs, resetMs}.
 */
const SLIDING_WINDOW_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count + cost <= limit then
  for i = 1, cost do
    redis.call('ZADD', KEYS[1], now, ARGV[4] .. ':' .. i)
  end
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, limit - count - cost, 0, window}
end
local blocking = count + cost - limit - 1
local oldest = redis.call('ZRANGE', KEYS[1], blocking, blocking, 'WITHSCORES')
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
return {0, limit - count, tonumber(oldest[2]) + window - now, tonumber(newest[2]) + window - now}
`;
const DISCONNECTED = new Set(['reconnecting', 'close', 'end']);
const SCRIPT_SHA = createHash('sha1').update(SLIDING_WINDOW_SCRIPT).digest('hex');

/**
 * Shared across gateway instances through Redis. When Redis fails or is slow, the call is answered by an in-memory
 * limiter with the same limits instead: rate limiting protects the platform, and turning a cache outage into a full
 * API outage would be the worse failure. Limits are then per instance until Redis is back. Logged once per outage.
 */
export class RedisSlidingWindowRateLimiter implements RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  private readonly redis: Redis | Cluster;
  private readonly keyPrefix: string;
  private readonly redisTimeoutMs: number;
  private readonly logger: RateLimiterLogger;
  private readonly fallback: InMemorySlidingWindowRateLimiter;
  private readonly memberPrefix = randomBytes(6).toString('hex');
  private sequence = 0;
  private degraded = false;

  constructor(options: RedisSlidingWindowOptions) {
    assertSlidingWindowOptions(options);
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.redis = options.redis;
    this.keyPrefix = options.keyPrefix;
    this.redisTimeoutMs = options.redisTimeoutMs ?? 500;
    this.logger = options.logger ?? processWarningLogger;
    this.fallback = new InMemorySlidingWindowRateLimiter({ limit: options.limit, windowMs: options.windowMs });
  }

  async consume(key: string, cost = 1): Promise<RateLimitResult> {
    assertCost(cost, this.limit);
    let reply: unknown;
    try {
      // A client that lost its connection would queue the command until it reconnects; answer from memory now.
      if (DISCONNECTED.has(this.redis.status)) throw new Error(`redis connection is ${this.redis.status}`);
      reply = await withTimeout(this.runScript(this.keyPrefix + key, cost), this.redisTimeoutMs);
    } catch (error) {
      this.markDegraded(error);
      return this.fallback.consume(key, cost);
    }
    this.markRecovered();
    return this.toResult(reply);
  }

  private async runScript(redisKey: string, cost: number): Promise<unknown> {
    const args = [String(this.windowMs), String(this.limit), String(cost), `${this.memberPrefix}:${++this.sequence}`];
    try {
      return await this.redis.evalsha(SCRIPT_SHA, 1, redisKey, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.redis.eval(SLIDING_WINDOW_SCRIPT, 1, redisKey, ...args);
    }
  }

  private toResult(reply: unknown): RateLimitResult {
    if (!Array.isArray(reply) || reply.length !== 4) throw new Error('unexpected rate-limit script reply');
    const [allowed, remaining, retryAfterMs, resetMs] = reply.map(Number) as [number, number, number, number];
    return slidingWindowResult(this.limit, allowed === 1, remaining, retryAfterMs, resetMs);
  }

  private markDegraded(error: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn(
      { err: error, keyPrefix: this.keyPrefix },
      'redis rate limiter unavailable; limiting per instance in memory until it is back',
    );
  }

  private markRecovered(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.logger.info({ keyPrefix: this.keyPrefix }, 'redis rate limiter available again');
  }
}

const processWarningLogger: RateLimiterLogger = {
  warn: (_details, message) => process.emitWarning(message, 'RateLimiterWarning'),
  info: () => undefined,
};

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
