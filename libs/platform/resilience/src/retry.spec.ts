import { describe, expect, it } from '@jest/globals';
import { retry } from './retry.js';

describe(retry.name, () => {
  it('succeeds after transient failures', async () => {
    let attempts = 0;
    const result = await retry(
      async () => {
        if (++attempts < 3) throw new Error('transient');
        return 'done';
      },
      { baseDelayMs: 1 },
    );
    expect(result).toBe('done');
    expect(attempts).toBe(3);
  });

  it('gives up after the allowed retries with the last error', async () => {
    let attempts = 0;
    await expect(
      retry(
        async () => {
          attempts++;
          throw new Error(`attempt ${attempts}`);
        },
        { retries: 2, baseDelayMs: 1 },
      ),
    ).rejects.toThrow('attempt 3');
    expect(attempts).toBe(3);
  });

  it('does not retry what shouldRetry refuses', async () => {
    let attempts = 0;
    await expect(
      retry(
        async () => {
          attempts++;
          throw new Error('permanent');
        },
        { shouldRetry: () => false },
      ),
    ).rejects.toThrow('permanent');
    expect(attempts).toBe(1);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    let attempts = 0;
    await expect(
      retry(
        async () => {
          attempts++;
          controller.abort();
          throw new Error('aborted run');
        },
        { signal: controller.signal, baseDelayMs: 1000 },
      ),
    ).rejects.toThrow('aborted run');
    expect(attempts).toBe(1);
  });
});
