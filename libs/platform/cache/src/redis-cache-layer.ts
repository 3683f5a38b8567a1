import { createHash, randomUUID } from 'node:crypto';
import { createBreaker, type Breaker, type BreakerState } from '@llmops/platform-resilience';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { SharedLayerMetrics, type CoherenceResetReason } from './cache-metrics.js';

/** pino-compatible, so a service passes its own logger without this lib depending on one. */
export interface CacheLogger {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

export interface RedisCacheLayerOptions {
  /** The command connection; the caller owns it. The layer opens its own subscriber connection from it. */
  redis: Redis;
  /** Namespaces every key and the invalidation channel, e.g. `llmops:events:config-manager:cache:`. */
  keyPrefix: string;
  registry: Registry;
  logger?: CacheLogger;
  /** A Redis call slower than this counts as a failure; reads then go to the loader. Default 100 ms. */
  timeoutMs?: number;
  /** How long the breaker stays open before one trial call. Default 1000 ms. */
  breakerResetMs?: number;
  /** How often a pending epoch bump is retried after an invalidation could not reach Redis. Default 1000 ms. */
  resyncRetryMs?: number;
  /** Names the breaker in its metrics. Default `redis-cache`. */
  breakerName?: string;
}

/** What an L2 read saw: the value if it is current, and the epoch and generation a fill must still find. */
export interface L2Read {
  value: string | undefined;
  epoch: string;
  generation: string;
}

export type L2FillOutcome = 'stored' | 'refused' | 'unavailable';

/** What the layer needs from each cache attached to it. */
export interface CacheRegion {
  dropLocal(keys: readonly string[], origin: 'local' | 'peer'): void;
  clearLocal(): void;
}

interface LuaScript {
  source: string;
  sha: string;
}

function script(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

type InvalidationMessage = { origin: string; cache: string; keys: string[] } | { origin: string; epoch: string };

/**
 * Sets the value only if neither the epoch nor the key's generation moved since the reader's MGET: a write that
 * committed (and invalidated) while the reader was loading from the database makes its value stale.
 * KEYS[1] epoch, KEYS[2] generation, KEYS[3] value; ARGV epoch, generation, ttl ms, stored value.
 */
const FILL_SCRIPT = script(`
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[3])
return 1
`);

/**
 * Bumps each key's generation (so in-flight fills are refused), deletes its value and tells the other replicas, in
 * one round trip. KEYS pairs of generation, value; ARGV generation ttl ms, channel, message.
 */
const INVALIDATE_SCRIPT = script(`
for i = 1, #KEYS, 2 do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[1])
  redis.call('DEL', KEYS[i + 1])
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`);

/**
 * Starts a new epoch: every value stored before it reads as a miss, and every replica drops its L1. Used when
 * invalidations may have been lost. KEYS[1] epoch; ARGV channel, origin. Returns the new epoch.
 */
const NEW_EPOCH_SCRIPT = script(`
local epoch = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], '{"origin":"' .. ARGV[2] .. '","epoch":"' .. epoch .. '"}')
return tostring(epoch)
`);

/**
 * Must outlive any load between a reader's MGET and its fill: an expired generation reads as 0 again, and a reader
 * that saw 0 before the write could then store its stale value.
 */
const GENERATION_TTL_MS = 60 * 60_000;

/**
 * The L2 shared by every cache of a process: values in Redis, invalidations published on one channel so every
 * replica drops its L1 entry, and an epoch that makes the whole L2 and every L1 start over when invalidations may
 * have been lost (an invalidation that could not reach Redis, a subscription that dropped). Every Redis call goes
 * through a circuit breaker with a short timeout: with Redis down, reads fall back to the loader at no extra latency
 * and writes' invalidations are best effort, made good by the new epoch once Redis answers again.
 *
 * Standalone or Sentinel Redis: the scripts touch keys of several slots, so not Redis Cluster.
 */
export class RedisCacheLayer {
  /** Tells this process's own messages apart: it has already applied them. */
  readonly origin = randomUUID();
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly channel: string;
  private readonly epochKey: string;
  private readonly keyPrefix: string;
  private readonly logger: CacheLogger | undefined;
  private readonly resyncRetryMs: number;
  private readonly breaker: Breaker<[() => Promise<unknown>], unknown>;
  private readonly metrics: SharedLayerMetrics;
  private readonly regions = new Map<string, CacheRegion>();
  private subscribed = false;
  private everSubscribed = false;
  private epoch: string | undefined;
  private newEpochPending = false;
  private newEpochInFlight: Promise<void> | undefined;
  private newEpochTimer: NodeJS.Timeout | undefined;
  private breakerWasOpen = false;
  private closed = false;

  constructor(options: RedisCacheLayerOptions) {
    this.redis = options.redis;
    this.keyPrefix = options.keyPrefix;
    this.channel = `${options.keyPrefix}invalidations`;
    this.epochKey = `${options.keyPrefix}epoch`;
    this.logger = options.logger;
    this.resyncRetryMs = options.resyncRetryMs ?? 1_000;
    this.metrics = new SharedLayerMetrics(options.registry);
    this.metrics.setUp(false);
    this.breaker = createBreaker(
      async (_signal, call: () => Promise<unknown>) => {
        // A client that lost its connection would queue the command until it reconnects; fail now instead.
        if (this.redis.status !== 'ready') throw new Error(`redis connection is ${this.redis.status}`);
        return call();
      },
      {
        name: options.breakerName ?? 'redis-cache',
        timeoutMs: options.timeoutMs ?? 100,
        resetTimeoutMs: options.breakerResetMs ?? 1_000,
        registry: options.registry,
        onStateChange: (state) => this.onBreakerState(state),
      },
    );
    // Resubscribing is ours, not ioredis's: 'ready' fires before its own resubscription is acknowledged, and L1 may
    // only be cleared once messages flow again.
    this.subscriber = options.redis.duplicate({ autoResubscribe: false, enableOfflineQueue: true, lazyConnect: false });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('ready', () => void this.subscribe());
    this.subscriber.on('close', () => this.onSubscriptionLost());
    this.subscriber.on('message', (_channel: string, message: string) => this.onMessage(message));
  }

  /** True while invalidations arrive and Redis answers: only then may L1 entries live their full TTL. */
  get coherent(): boolean {
    return this.subscribed && this.breaker.state === 'closed' && !this.closed;
  }

  attach(name: string, region: CacheRegion): void {
    if (this.regions.has(name)) throw new Error(`a cache named ${name} is already attached`);
    this.regions.set(name, region);
  }

  /** Never throws: undefined when Redis cannot be asked. */
  async read(cache: string, key: string): Promise<L2Read | undefined> {
    let reply: Array<string | null>;
    try {
      reply = (await this.call(() => this.redis.mget(this.epochKey, this.generationKey(cache, key), this.valueKey(cache, key)))) as Array<
        string | null
      >;
    } catch {
      return undefined;
    }
    const [epochReply, generation, stored] = reply;
    const epoch = epochReply ?? '0';
    this.adoptEpoch(epoch);
    // Stored as `<epoch> <payload>`: a value from an earlier epoch may have missed an invalidation.
    const separator = stored ? stored.indexOf(' ') : -1;
    const current = stored && separator > 0 && stored.slice(0, separator) === epoch;
    return { value: current ? stored.slice(separator + 1) : undefined, epoch, generation: generation ?? '0' };
  }

  /** Stores `payload` unless the key was invalidated (or a new epoch began) since `seen` was read. */
  async fill(cache: string, key: string, seen: L2Read, payload: string, ttlMs: number): Promise<L2FillOutcome> {
    try {
      const stored = await this.call(() =>
        this.evalScript(FILL_SCRIPT, [this.epochKey, this.generationKey(cache, key), this.valueKey(cache, key)], [
          seen.epoch,
          seen.generation,
          String(ttlMs),
          `${seen.epoch} ${payload}`,
        ]),
      );
      return Number(stored) === 1 ? 'stored' : 'refused';
    } catch {
      return 'unavailable';
    }
  }

  /** Best effort: when Redis cannot be told, a new epoch is started as soon as it can. */
  async invalidate(cache: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const redisKeys = keys.flatMap((key) => [this.generationKey(cache, key), this.valueKey(cache, key)]);
    const message: InvalidationMessage = { origin: this.origin, cache, keys: [...keys] };
    try {
      await this.call(() => this.evalScript(INVALIDATE_SCRIPT, redisKeys, [String(GENERATION_TTL_MS), this.channel, JSON.stringify(message)]));
    } catch (error) {
      this.requestNewEpoch(error);
    }
  }

  /** Stops the subscriber and the breaker; the command connection is the caller's to close. */
  close(): void {
    this.closed = true;
    clearInterval(this.newEpochTimer);
    this.breaker.shutdown();
    this.subscriber.disconnect();
    this.metrics.setUp(false);
  }

  private async call<T>(run: () => Promise<T>): Promise<T> {
    return (await this.breaker.fire(run)) as T;
  }

  private async subscribe(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.channel);
    } catch {
      // The connection dropped again; its next 'ready' retries.
      return;
    }
    const resubscribed = this.everSubscribed;
    this.everSubscribed = true;
    this.subscribed = true;
    this.metrics.setUp(this.coherent);
    // Whatever L1 holds may predate a message sent while we were not listening.
    this.resetAll('subscribed');
    if (resubscribed) this.logger?.info({ keyPrefix: this.keyPrefix }, 'cache invalidations subscribed; local cache cleared');
    if (this.newEpochPending) void this.startNewEpoch();
  }

  private onSubscriptionLost(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    this.metrics.setUp(false);
    if (!this.closed) {
      this.logger?.warn({ keyPrefix: this.keyPrefix }, 'cache invalidations unsubscribed (redis unreachable); local entries live a short TTL only');
    }
  }

  private onBreakerState(state: BreakerState): void {
    this.metrics.setUp(this.coherent);
    if (state === 'open') {
      this.breakerWasOpen = true;
      this.logger?.warn({ keyPrefix: this.keyPrefix }, 'redis cache breaker open; reading from the database');
      return;
    }
    if (state === 'closed' && this.breakerWasOpen) {
      this.breakerWasOpen = false;
      // A partition may have hidden the loss from the idle subscriber connection.
      this.resetAll('breaker_closed');
      this.logger?.info({ keyPrefix: this.keyPrefix }, 'redis cache breaker closed; local cache cleared');
      if (this.newEpochPending) void this.startNewEpoch();
    }
  }

  private onMessage(raw: string): void {
    let message: InvalidationMessage;
    try {
      message = JSON.parse(raw) as InvalidationMessage;
    } catch {
      return;
    }
    if (message.origin === this.origin) return;
    if ('epoch' in message) this.adoptEpoch(message.epoch);
    else this.regions.get(message.cache)?.dropLocal(message.keys, 'peer');
  }

  private adoptEpoch(epoch: string): void {
    if (this.epoch === epoch) return;
    const known = this.epoch !== undefined;
    this.epoch = epoch;
    if (known) this.resetAll('epoch_changed');
  }

  private resetAll(reason: CoherenceResetReason): void {
    for (const region of this.regions.values()) region.clearLocal();
    this.metrics.reset(reason);
  }

  private requestNewEpoch(error: unknown): void {
    if (this.closed) return;
    if (!this.newEpochPending) {
      this.newEpochPending = true;
      this.logger?.warn({ err: error, keyPrefix: this.keyPrefix }, 'cache invalidation did not reach redis; a new cache epoch follows once it answers');
    }
    this.newEpochTimer ??= setInterval(() => void this.startNewEpoch(), this.resyncRetryMs).unref();
  }

  private startNewEpoch(): Promise<void> {
    this.newEpochInFlight ??= (async () => {
      try {
        const epoch = String(await this.call(() => this.evalScript(NEW_EPOCH_SCRIPT, [this.epochKey], [this.channel, this.origin])));
        this.newEpochPending = false;
        clearInterval(this.newEpochTimer);
        this.newEpochTimer = undefined;
        this.adoptEpoch(epoch);
        this.logger?.info({ keyPrefix: this.keyPrefix, epoch }, 'new cache epoch: values cached before the outage are dropped');
      } catch {
        // Still unreachable: the timer tries again.
      } finally {
        this.newEpochInFlight = undefined;
      }
    })();
    return this.newEpochInFlight;
  }

  private async evalScript(luaScript: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(luaScript.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.redis.eval(luaScript.source, keys.length, ...keys, ...args);
    }
  }

  private valueKey(cache: string, key: string): string {
    return `${this.keyPrefix}v:${cache}:${key}`;
  }

  private generationKey(cache: string, key: string): string {
    return `${this.keyPrefix}g:${cache}:${key}`;
  }
}
