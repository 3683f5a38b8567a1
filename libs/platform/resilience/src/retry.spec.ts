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

  it('makes no attempt once already aborted', async () => {
    let attempts = 0;
    await expect(
      retry(
        async () => {
          attempts++;
          return 'never';
        },
        { signal: AbortSignal.abort() },
      ),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(attempts).toBe(0);
  });

  it('ends a pending backoff when aborted, with the last error', async () => {
    const controller = new AbortController();
    let attempts = 0;
    const running = retry(
      async () => {
        attempts++;
        setTimeout(() => controller.abort(), 5);
        throw new Error('still down');
      },
      // A backoff far beyond the test timeout: only the abort can end it.
      { signal: controller.signal, baseDelayMs: 600_000, maxDelayMs: 600_000, shouldRetry: () => true },
    );
    await expect(running).rejects.toThrow('still down');
    expect(attempts).toBe(1);
  });
});
