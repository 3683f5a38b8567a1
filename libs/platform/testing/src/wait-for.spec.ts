import { describe, expect, it } from '@jest/globals';
import { waitFor } from './wait-for.js';

describe(waitFor.name, () => {
  it('resolves with the first truthy value, treating throws as not yet', async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls++;
        if (calls === 1) throw new Error('not up yet');
        return calls >= 3 ? { calls } : undefined;
      },
      { intervalMs: 1 },
    );
    expect(value).toEqual({ calls: 3 });
  });

  it('rejects with the message and the last error on timeout', async () => {
    await expect(
      waitFor(
        async () => {
          throw new Error('connection refused');
        },
        { timeoutMs: 30, intervalMs: 5, message: 'server never came up' },
      ),
    ).rejects.toThrow(/^server never came up \(after 30 ms; last error: connection refused\)$/);
  });
});
