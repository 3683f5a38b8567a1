export interface ReconnectBackoff {
  /** The delay ceiling of the first retry; it doubles per failed attempt. */
  initialDelayMs: number;
  /** No retry waits longer than this. */
  maxDelayMs: number;
}

export const DEFAULT_RECONNECT_BACKOFF: ReconnectBackoff = { initialDelayMs: 250, maxDelayMs: 30_000 };

/**
 * The wait before retry number `attempt` (0 for the first): exponential up to the cap, then "equal jitter" (half fixed,
 * half random) so that many clients dropped by one restart do not all come back in the same instant.
 */
export function reconnectDelayMs(attempt: number, backoff: ReconnectBackoff, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxDelayMs, backoff.initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
