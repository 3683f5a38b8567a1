export interface RateLimitResult {
  allowed: boolean;
  /** Requests still allowed in the current window after this one. */
  remaining: number;
  limit: number;
  /** When denied: whole seconds until this request would be allowed (Retry-After); 0 when allowed. */
  retryAfterSeconds: number;
  /** Whole seconds until every request now in the window has expired and the full limit is available again. */
  resetSeconds: number;
}

/** Per-key request budget, e.g. keyed by principal id or client address. */
export interface RateLimiter {
  consume(key: string, cost?: number): Promise<RateLimitResult>;
}

export interface SlidingWindowOptions {
  /** Requests allowed in any window of `windowMs`. */
  limit: number;
  windowMs: number;
}

export function assertSlidingWindowOptions({ limit, windowMs }: SlidingWindowOptions): void {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('rate limit must be a positive integer');
  if (!Number.isInteger(windowMs) || windowMs < 1) throw new RangeError('rate limit windowMs must be a positive integer');
}

/** A cost above the limit could never be allowed; that is a caller bug, not a rate-limit decision. */
export function assertCost(cost: number, limit: number): void {
  if (!Number.isInteger(cost) || cost < 1 || cost > limit) {
    throw new RangeError(`rate limit cost must be an integer from 1 to the limit (${limit}), got ${cost}`);
  }
}

/** The result shape both implementations derive from the same sliding-window log arithmetic. */
export function slidingWindowResult(
  limit: number,
  allowed: boolean,
  remaining: number,
  retryAfterMs: number,
  resetMs: number,
): RateLimitResult {
  return {
    allowed,
    remaining: Math.max(0, remaining),
    limit,
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(retryAfterMs / 1000)),
    resetSeconds: Math.max(0, Math.ceil(resetMs / 1000)),
  };
}
