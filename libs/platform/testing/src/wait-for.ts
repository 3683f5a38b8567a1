export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** The rejection message on timeout. */
  message?: string;
}

/**
 * Polls `probe` until it returns something truthy and resolves with it. A probe that throws counts as "not yet";
 * on timeout the rejection carries `message` and the last such error.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 10_000, intervalMs = 50, message = 'condition not met in time' }: WaitForOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`${message} (after ${timeoutMs} ms${cause})`);
    }
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
