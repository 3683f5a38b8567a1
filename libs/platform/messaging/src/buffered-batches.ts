/**
 * Regroups an async iterable into arrays of what it has produced since the previous array was taken, at most
 * `maxSize` each: the consumer waits only while nothing is there. A reader task drains `source` meanwhile and
 * pauses once `maxSize` items wait, so `source` keeps its own flow control.
 *
 * Needed because nats.js 3's ConsumerMessages cannot say reliably whether a message is buffered: getPending() also
 * counts the pull requests it queues internally, even once sent, so it reports messages while next() would block
 * until the next delivery.
 */
export async function* bufferedBatches<T>(source: AsyncIterable<T>, maxSize: number): AsyncGenerator<T[], void, undefined> {
  const buffer: T[] = [];
  let sourceDone = false;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  let wakeConsumer: (() => void) | undefined;
  let wakeReader: (() => void) | undefined;
  const reading = (async () => {
    try {
      for await (const item of source) {
        buffer.push(item);
        wakeConsumer?.();
        if (buffer.length >= maxSize) await new Promise<void>((resolve) => (wakeReader = resolve));
        if (stopped) break; // ends `source` too
      }
    } catch (error) {
      failure = { error };
    } finally {
      sourceDone = true;
      wakeConsumer?.();
    }
  })();
  try {
    for (;;) {
      if (buffer.length === 0 && !sourceDone) await new Promise<void>((resolve) => (wakeConsumer = resolve));
      wakeConsumer = undefined;
      // One turn of the event loop, not a timer: items the source already holds reach the buffer through its async
      // iterator in microtasks, so they have all arrived when the batch is taken.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (buffer.length > 0) {
        const batch = buffer.splice(0, maxSize);
        wakeReader?.();
        wakeReader = undefined;
        yield batch;
      } else if (sourceDone) {
        break;
      }
    }
    await reading;
    if (failure) throw failure.error;
  } finally {
    stopped = true;
    wakeReader?.();
  }
}
