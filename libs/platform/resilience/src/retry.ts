export interface RetryOptions {
  /** Retries after the first attempt. Default 3. */
  retries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  signal?: AbortSignal;
}

/** Calls `fn` until it succeeds, retrying with exponential backoff and full jitter while `shouldRetry` allows. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = options.retries ?? 3;
  const base = options.baseDelayMs ?? 100;
  const max = options.maxDelayMs ?? 2_000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      const retryable = attempt < retries && (options.shouldRetry?.(error, attempt) ?? true);
      if (!retryable || options.signal?.aborted) throw error;
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
