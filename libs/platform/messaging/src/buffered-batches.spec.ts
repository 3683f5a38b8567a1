import { describe, expect, it } from '@jest/globals';
import { sleep } from '@llmops/platform-testing';
import { bufferedBatches } from './buffered-batches.js';

/** An async source fed by the test, which records how far it has been read. */
function feed<T>(): { push(...items: T[]): void; fail(error: Error): void; end(): void; source: AsyncIterable<T>; read(): number; stopped(): boolean } {
  const queue: T[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let read = 0;
  let stopped = false;
  async function* source(): AsyncGenerator<T> {
    try {
      for (;;) {
        while (queue.length === 0 && !ended && !failure) await new Promise<void>((resolve) => (wake = resolve));
        if (queue.length > 0) {
          read += 1;
          yield queue.shift()!;
        } else if (failure) throw failure;
        else return;
      }
    } finally {
      stopped = true;
    }
  }
  return {
    push: (...items) => {
      queue.push(...items);
      wake?.();
    },
    fail: (error) => {
      failure = error;
      wake?.();
    },
    end: () => {
      ended = true;
      wake?.();
    },
    source: source(),
    read: () => read,
    stopped: () => stopped,
  };
}

describe(bufferedBatches.name, () => {
  it('hands over everything that arrived while the consumer was busy, and a lone item at once', async () => {
    const input = feed<number>();
    const batches = bufferedBatches(input.source, 10);

    input.push(1);
    expect((await batches.next()).value).toEqual([1]);
    input.push(2, 3);
    await sleep(5); // the consumer is busy with batch [1]
    input.push(4);
    await sleep(5);
    expect((await batches.next()).value).toEqual([2, 3, 4]);
    input.push(5);
    expect((await batches.next()).value).toEqual([5]);
    input.end();
    expect((await batches.next()).done).toBe(true);
  });

  it('caps batches at maxSize and reads no further ahead than one batch', async () => {
    const input = feed<number>();
    const batches = bufferedBatches(input.source, 2);
    input.push(1, 2, 3, 4, 5);

    expect((await batches.next()).value).toEqual([1, 2]);
    await sleep(5);
    expect(input.read()).toBe(4); // the batch handed over and the next one, not the fifth item
    expect((await batches.next()).value).toEqual([3, 4]);
    await sleep(5);
    expect((await batches.next()).value).toEqual([5]);
  });

  it('hands over what was read before rethrowing the error of the source', async () => {
    const input = feed<number>();
    const batches = bufferedBatches(input.source, 10);
    input.push(1, 2);
    input.fail(new Error('source broke'));
    await sleep(5);

    expect((await batches.next()).value).toEqual([1, 2]);
    await expect(batches.next()).rejects.toThrow('source broke');
  });

  it('stops reading the source when the consumer stops', async () => {
    const input = feed<number>();
    const batches = bufferedBatches(input.source, 1);
    input.push(1, 2, 3);
    expect((await batches.next()).value).toEqual([1]);

    await batches.return();
    await sleep(5);

    expect(input.stopped()).toBe(true);
    expect(input.read()).toBeLessThan(3);
  });
});
