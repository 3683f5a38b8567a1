export interface RetryOptions {
  /** Retries after the first attempt. Default 3. */
  retries?: number;
  /** Cap of the first backoff; it doubles per attempt up to `maxDelayMs`. Default 100 ms. */
  baseDelayMs?: number;
  /** Default 2000 ms. */
  maxDelayMs?: number;
  /** Whether the error of attempt `attempt` (0 = the first) is worth another try. Default: always. */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Aborting stops the retries: no attempt starts after it, a pending backoff ends with the last error. */
  signal?: AbortSignal;
}

/** Calls `fn` until it succeeds, retrying with exponential backoff and full jitter while `shouldRetry` allows. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = options.retries ?? 3;
  const base = options.baseDelayMs ?? 100;
  const max = options.maxDelayMs ?? 2_000;
  options.signal?.throwIfAborted();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      const retryable = attempt < retries && (options.shouldRetry?.(error, attempt) ?? true);
      if (!retryable || options.signal?.aborted) throw error;
      // Full jitter: spreads the retries of many callers that failed together.
      await sleep(Math.random() * Math.min(max, base * 2 ** attempt), options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
