import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { InMemorySlidingWindowRateLimiter } from './in-memory-sliding-window.rate-limiter.js';
import type { RateLimiter, SlidingWindowOptions } from './rate-limiter.js';
import { RedisSlidingWindowRateLimiter, type RateLimiterLogger } from './redis-sliding-window.rate-limiter.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const KEY_PREFIX = `test:platform-auth:rate-limit:${randomUUID()}:`;
let redis: Redis;

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  const keys = await redis.keys(`${KEY_PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

type LimiterFactory = (options: SlidingWindowOptions) => RateLimiter;

const implementations: Array<[string, LimiterFactory]> = [
  ['InMemorySlidingWindowRateLimiter', (options) => new InMemorySlidingWindowRateLimiter(options)],
  ['RedisSlidingWindowRateLimiter', (options) => new RedisSlidingWindowRateLimiter({ ...options, redis, keyPrefix: KEY_PREFIX })],
];

describe.each(implementations)('%s (sliding-window contract)', (_name, create) => {
  it('allows `limit` requests, then denies with a Retry-After', async () => {
    const limiter = create({ limit: 3, windowMs: 60_000 });
    const key = randomUUID();
    const remaining: number[] = [];
    for (let i = 0; i < 3; i++) {
      const result = await limiter.consume(key);
      expect(result).toMatchObject({ allowed: true, limit: 3, retryAfterSeconds: 0 });
      remaining.push(result.remaining);
    }
    expect(remaining).toEqual([2, 1, 0]);
    const denied = await limiter.consume(key);
    expect(denied).toMatchObject({ allowed: false, remaining: 0, limit: 3 });
    expect(denied.retryAfterSeconds).toBeGreaterThan(0);
    expect(denied.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(denied.resetSeconds).toBeGreaterThanOrEqual(denied.retryAfterSeconds);
  });

  it('does not count denied requests against the budget', async () => {
    const limiter = create({ limit: 1, windowMs: 400 });
    const key = randomUUID();
    expect((await limiter.consume(key)).allowed).toBe(true);
    for (let i = 0; i < 5; i++) expect((await limiter.consume(key)).allowed).toBe(false);
    await sleep(600);
    expect((await limiter.consume(key)).allowed).toBe(true);
  });

  it('slides: requests older than the window stop counting', async () => {
    const limiter = create({ limit: 2, windowMs: 400 });
    const key = randomUUID();
    await limiter.consume(key);
    await limiter.consume(key);
    expect((await limiter.consume(key)).allowed).toBe(false);
    await sleep(600);
    const afterWindow = await limiter.consume(key);
    expect(afterWindow).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('keeps separate keys independent', async () => {
    const limiter = create({ limit: 1, windowMs: 60_000 });
    const [alice, bob] = [randomUUID(), randomUUID()];
    expect((await limiter.consume(alice)).allowed).toBe(true);
    expect((await limiter.consume(alice)).allowed).toBe(false);
    expect((await limiter.consume(bob)).allowed).toBe(true);
  });

  it('charges a cost, and refuses a cost that could never fit', async () => {
    const limiter = create({ limit: 5, windowMs: 60_000 });
    const key = randomUUID();
    expect(await limiter.consume(key, 4)).toMatchObject({ allowed: true, remaining: 1 });
    expect(await limiter.consume(key, 2)).toMatchObject({ allowed: false, remaining: 1 });
    expect(await limiter.consume(key, 1)).toMatchObject({ allowed: true, remaining: 0 });
    await expect(limiter.consume(key, 6)).rejects.toThrow(RangeError);
    await expect(limiter.consume(key, 0)).rejects.toThrow(RangeError);
  });
});

describe(RedisSlidingWindowRateLimiter.name, () => {
  it('shares one budget between instances (e.g. two gateway replicas)', async () => {
    const options = { redis, keyPrefix: KEY_PREFIX, limit: 2, windowMs: 60_000 };
    const [first, second] = [new RedisSlidingWindowRateLimiter(options), new RedisSlidingWindowRateLimiter(options)];
    const key = randomUUID();
    expect((await first.consume(key)).allowed).toBe(true);
    expect((await second.consume(key)).allowed).toBe(true);
    expect((await first.consume(key)).allowed).toBe(false);
  });

  it('expires its keys with the window, so idle keys leave Redis', async () => {
    const limiter = new RedisSlidingWindowRateLimiter({ redis, keyPrefix: KEY_PREFIX, limit: 2, windowMs: 30_000 });
    const key = randomUUID();
    await limiter.consume(key);
    const ttl = await redis.pttl(`${KEY_PREFIX}${key}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  it('falls back to in-memory limiting when Redis is unreachable, and logs it once', async () => {
    const unreachable = new Redis({
      host: '127.0.0.1',
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const warnings: string[] = [];
    const logger: RateLimiterLogger = { warn: (_details, message) => warnings.push(message), info: () => undefined };
    const limiter = new RedisSlidingWindowRateLimiter({ redis: unreachable, keyPrefix: KEY_PREFIX, limit: 2, windowMs: 60_000, logger });
    try {
      const key = randomUUID();
      expect((await limiter.consume(key)).allowed).toBe(true);
      expect((await limiter.consume(key)).allowed).toBe(true);
      expect((await limiter.consume(key)).allowed).toBe(false);
      expect(warnings).toHaveLength(1);
    } finally {
      unreachable.disconnect();
    }
  });
});

describe(InMemorySlidingWindowRateLimiter.name, () => {
  it('forgets the least recently used key beyond maxKeys', async () => {
    const limiter = new InMemorySlidingWindowRateLimiter({ limit: 1, windowMs: 60_000, maxKeys: 2 });
    await limiter.consume('a');
    await limiter.consume('b');
    await limiter.consume('c');
    expect(limiter.size).toBe(2);
    // `a` was evicted, so its budget is fresh again; `c` is still limited.
    expect((await limiter.consume('a')).allowed).toBe(true);
    expect((await limiter.consume('c')).allowed).toBe(false);
  });

  it('sweeps keys that have been idle for a whole window', async () => {
    const limiter = new InMemorySlidingWindowRateLimiter({ limit: 5, windowMs: 100 });
    await limiter.consume('idle');
    await sleep(250);
    await limiter.consume('active');
    expect(limiter.size).toBe(1);
  });
});
