import { describe, expect, it } from '@jest/globals';
import { reconnectDelayMs } from './reconnect-delay.js';

describe(reconnectDelayMs.name, () => {
  const backoff = { initialDelayMs: 100, maxDelayMs: 1_000 };

  it('doubles per attempt up to the cap, with half of each delay random', () => {
    expect([0, 1, 2, 3, 4, 50].map((attempt) => reconnectDelayMs(attempt, backoff, () => 1))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect([0, 1, 2, 3, 4, 50].map((attempt) => reconnectDelayMs(attempt, backoff, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
  });
});
