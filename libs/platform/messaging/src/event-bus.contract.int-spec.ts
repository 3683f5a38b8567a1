import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EventEnvelope } from '@llmops/contracts';
import { deleteJetStreamStreams, sleep, TEST_NATS_URL, waitFor } from '@llmops/platform-testing';
import type { BatchedConsumerOptions, ConsumerOptions, DeliveredEvent, EventBus, Subscription } from './event-bus.js';
import { InProcessBus } from './in-process-bus.js';
import { JetStreamBus } from './jetstream-bus.js';
import { testEvent, type TestEvent } from './testing/test-events.js';

const suffix = randomBytes(4).toString('hex');

interface BusUnderTest {
  bus: EventBus;
  subjectRoot: string;
  dispose(): Promise<void>;
}

async function inProcessBus(): Promise<BusUnderTest> {
  const subjectRoot = `contract_mem_${suffix}`;
  const bus = new InProcessBus({ subjectRoot });
  return { bus, subjectRoot, dispose: () => bus.close() };
}

async function jetStreamBus(): Promise<BusUnderTest> {
  const subjectRoot = `contract_js_${suffix}`;
  const stream = `CONTRACT_${suffix}`;
  const bus = await JetStreamBus.connect({ url: TEST_NATS_URL, stream, subjectRoot, name: 'messaging-contract-test' });
  return {
    bus,
    subjectRoot,
    dispose: async () => {
      await bus.close();
      await deleteJetStreamStreams([stream]);
    },
  };
}

interface Received {
  event: EventEnvelope;
  raw: DeliveredEvent;
}

const fastRetry = { initialMs: 100, maxMs: 200 };

// The same behaviour is required from the in-memory bus (single-process mode) and from JetStream.
describe.each([
  ['InProcessBus', inProcessBus],
  ['JetStreamBus', jetStreamBus],
])('%s (EventBus contract)', (_name, createBus) => {
  let busUnderTest: BusUnderTest;
  let bus: EventBus;
  let testCount = 0;
  const openSubscriptions: Subscription[] = [];

  beforeAll(async () => {
    busUnderTest = await createBus();
    bus = busUnderTest.bus;
  });

  afterAll(async () => {
    await Promise.all(openSubscriptions.map((subscription) => subscription.close()));
    await busUnderTest.dispose();
  });

  /** A subject space and durable name of its own for each test. */
  function scope(): { subject: (type: string) => string; filter: string; durable: string } {
    testCount += 1;
    const prefix = `${busUnderTest.subjectRoot}.t${testCount}`;
    return { subject: (type) => `${prefix}.${type}`, filter: `${prefix}.>`, durable: `contract_${suffix}_${testCount}` };
  }

  async function subscribe(
    options: ConsumerOptions,
    handler: (received: Received) => Promise<void> = async () => undefined,
  ): Promise<{ received: Received[]; subscription: Subscription }> {
    const received: Received[] = [];
    const subscription = await bus.subscribe(options, async (event, raw) => {
      received.push({ event, raw });
      await handler({ event, raw });
    });
    openSubscriptions.push(subscription);
    return { received, subscription };
  }

  async function subscribeBatches(
    options: BatchedConsumerOptions,
    handler: (batch: Received[]) => Promise<void> = async () => undefined,
  ): Promise<{ calls: Received[][]; committed: Received[][]; subscription: Subscription }> {
    const calls: Received[][] = [];
    const committed: Received[][] = [];
    const subscription = await bus.subscribeBatches(options, async (batch) => {
      calls.push(batch);
      await handler(batch);
      committed.push(batch);
    });
    openSubscriptions.push(subscription);
    return { calls, committed, subscription };
  }

  async function publishAll(events: TestEvent[]): Promise<void> {
    for (const event of events) await bus.publish(event.subject, event.bytes, event.id);
  }

  it('delivers published events to a durable consumer in publish order', async () => {
    const { subject, filter, durable } = scope();
    const events = Array.from({ length: 20 }, (_, n) => testEvent(subject('item.created'), n));
    for (const event of events) await bus.publish(event.subject, event.bytes, event.id);

    const { received } = await subscribe({ durableName: durable, filterSubjects: [filter] });

    await waitFor(() => received.length === events.length, { message: 'timed out waiting for all events' });
    expect(received.map(({ event }) => event.id)).toEqual(events.map((event) => event.id));
    expect(received[3]?.event.payload).toEqual({ n: 3 });
    expect(received[3]?.raw).toMatchObject({ subject: subject('item.created'), eventId: events[3]?.id, deliveryCount: 1 });
  });

  it('stores an event published twice with the same id once', async () => {
    const { subject, filter, durable } = scope();
    const event = testEvent(subject('item.created'), 1);
    const marker = testEvent(subject('item.created'), 2);
    await bus.publish(event.subject, event.bytes, event.id);
    await bus.publish(event.subject, event.bytes, event.id);
    await bus.publish(marker.subject, marker.bytes, marker.id);

    const { received } = await subscribe({ durableName: durable, filterSubjects: [filter] });

    await waitFor(() => received.some(({ event: e }) => e.id === marker.id), { message: 'timed out waiting for the marker event' });
    expect(received.map(({ event: e }) => e.id)).toEqual([event.id, marker.id]);
  });

  it('redelivers an event whose handler threw, and acks it once the handler succeeds', async () => {
    const { subject, filter, durable } = scope();
    const event = testEvent(subject('item.created'), 1);
    let attempts = 0;
    const { received } = await subscribe({ durableName: durable, filterSubjects: [filter], retryBackoff: fastRetry }, async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('transient failure');
    });

    await bus.publish(event.subject, event.bytes, event.id);

    await waitFor(() => received.length === 2, { message: 'timed out waiting for the redelivery' });
    expect(received.map(({ raw }) => raw.deliveryCount)).toEqual([1, 2]);
    await sleep(500);
    expect(received).toHaveLength(2); // acked: no third delivery
  });

  it('resumes a restarted durable consumer after the last acknowledged event', async () => {
    const { subject, filter, durable } = scope();
    const [first, second, third] = [1, 2, 3].map((n) => testEvent(subject('item.created'), n));
    const options: ConsumerOptions = { durableName: durable, filterSubjects: [filter] };
    await bus.publish(first!.subject, first!.bytes, first!.id);
    const before = await subscribe(options);
    await waitFor(() => before.received.length === 1, { message: 'timed out waiting for the first event' });
    await before.subscription.close();

    await bus.publish(second!.subject, second!.bytes, second!.id);
    await bus.publish(third!.subject, third!.bytes, third!.id);
    const after = await subscribe(options);

    await waitFor(() => after.received.length === 2, { message: 'timed out waiting for the events published while stopped' });
    await sleep(300);
    expect(after.received.map(({ event }) => event.id)).toEqual([second!.id, third!.id]);
  });

  it('delivers only events matching the filter subjects', async () => {
    const { subject, filter, durable } = scope();
    const wanted = testEvent(subject('config.updated'), 1);
    const other = testEvent(subject('secret.rotated'), 2);
    await bus.publish(other.subject, other.bytes, other.id);
    await bus.publish(wanted.subject, wanted.bytes, wanted.id);

    const { received } = await subscribe({ durableName: durable, filterSubjects: [filter.replace('>', 'config.*')] });

    await waitFor(() => received.length === 1, { message: 'timed out waiting for the matching event' });
    await sleep(300);
    expect(received.map(({ event }) => event.id)).toEqual([wanted.id]);
  });

  it('gives every durable consumer its own copy of each event', async () => {
    const { subject, filter, durable } = scope();
    const event = testEvent(subject('item.created'), 1);
    await bus.publish(event.subject, event.bytes, event.id);

    const audit = await subscribe({ durableName: `${durable}_audit`, filterSubjects: [filter] });
    const cache = await subscribe({ durableName: `${durable}_cache`, filterSubjects: [filter] });

    await waitFor(() => audit.received.length === 1 && cache.received.length === 1, { message: 'timed out waiting for both consumers' });
  });

  it('lets every listener hear each matching event published after it listens, and nothing after it closes', async () => {
    const { subject, filter } = scope();
    const before = testEvent(subject('config.updated'), 0);
    await bus.publish(before.subject, before.bytes, before.id);
    const first: string[] = [];
    const second: string[] = [];
    const listeners = [bus.listen(filter.replace('>', 'config.*'), (heard) => first.push(heard)), bus.listen(filter, (heard) => second.push(heard))];
    // A core NATS subscription is in place once the server has it; publishing through the same connection orders it.
    await sleep(100);
    const wanted = testEvent(subject('config.updated'), 1);
    const other = testEvent(subject('secret.rotated'), 2);
    await bus.publish(wanted.subject, wanted.bytes, wanted.id);
    await bus.publish(other.subject, other.bytes, other.id);
    await waitFor(() => first.length === 1 && second.length === 2, { message: 'timed out waiting for the listeners' });
    expect(first).toEqual([wanted.subject]);
    expect(second).toEqual([wanted.subject, other.subject]);
    await Promise.all(listeners.map((listener) => listener.close()));
    const late = testEvent(subject('config.updated'), 3);
    await bus.publish(late.subject, late.bytes, late.id);
    await sleep(200);
    expect(first).toEqual([wanted.subject]);
  });

  it('dead-letters an event after maxDeliver failed deliveries and carries on with the next', async () => {
    const { subject, filter, durable } = scope();
    const poison = testEvent(subject('item.created'), 1);
    const healthy = testEvent(subject('item.created'), 2);
    const handled: string[] = [];
    const { received } = await subscribe(
      { durableName: durable, filterSubjects: [filter], maxDeliver: 3, retryBackoff: fastRetry },
      async ({ event }) => {
        if (event.id === poison.id) throw new Error('cannot handle this event');
        handled.push(event.id);
      },
    );

    await bus.publish(poison.subject, poison.bytes, poison.id);
    await bus.publish(healthy.subject, healthy.bytes, healthy.id);

    await waitFor(() => handled.includes(healthy.id), { message: 'timed out waiting for the healthy event' });
    await waitFor(() => received.filter(({ event }) => event.id === poison.id).length === 3, { message: 'timed out waiting for three poison deliveries' });
    await sleep(600);
    expect(received.filter(({ event }) => event.id === poison.id).map(({ raw }) => raw.deliveryCount)).toEqual([1, 2, 3]);
  });

  describe('subscribeBatches', () => {
    const ids = (batch: Received[]): string[] => batch.map(({ event }) => event.id);

    it('groups a burst into batches of at most maxBatchSize, each event once and in stream order', async () => {
      const { subject, filter, durable } = scope();
      const events = Array.from({ length: 2_000 }, (_, n) => testEvent(subject('item.created'), n));
      // Each call costs a little, like a transaction, so deliveries pile up meanwhile.
      const { committed } = await subscribeBatches({ durableName: durable, filterSubjects: [filter], maxBatchSize: 100 }, () => sleep(3));

      await publishAll(events);

      await waitFor(() => committed.flat().length >= events.length, { timeoutMs: 30_000, message: 'timed out waiting for the burst' });
      await sleep(200);
      const handled = committed.flat();
      expect(ids(handled)).toEqual(events.map((event) => event.id));
      const sequences = handled.map(({ raw }) => raw.streamSequence);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(handled.every(({ raw }) => raw.deliveryCount === 1)).toBe(true);
      const largest = Math.max(...committed.map((batch) => batch.length));
      expect(largest).toBeGreaterThan(1);
      expect(largest).toBeLessThanOrEqual(100);
    });

    it('hands over each event of a light trickle on its own, without waiting for more', async () => {
      const { subject, filter, durable } = scope();
      const events = Array.from({ length: 5 }, (_, n) => testEvent(subject('item.created'), n));
      const { calls } = await subscribeBatches({ durableName: durable, filterSubjects: [filter] });

      for (const [n, event] of events.entries()) {
        await bus.publish(event.subject, event.bytes, event.id);
        await waitFor(() => calls.length === n + 1, { timeoutMs: 1_000, message: `event ${n} was not handed over at once` });
      }

      expect(calls.map(ids)).toEqual(events.map((event) => [event.id]));
    });

    it('retries a failed batch event by event: its neighbours are acked once, the poison event is redelivered and dead-lettered', async () => {
      const { subject, filter, durable } = scope();
      const [first, ...rest] = Array.from({ length: 7 }, (_, n) => testEvent(subject('item.created'), n));
      const poison = rest[3]!;
      const neighbours = rest.filter((event) => event !== poison);
      let restPublished = false;
      const { calls, committed } = await subscribeBatches(
        { durableName: durable, filterSubjects: [filter], maxBatchSize: 50, maxDeliver: 3, retryBackoff: fastRetry },
        async (batch) => {
          if (batch[0]?.event.id === first!.id) {
            // Hold the first call until the rest has been delivered, so they form the next batch together.
            await waitFor(() => restPublished);
            await sleep(200);
          }
          if (batch.some(({ event }) => event.id === poison.id)) throw new Error('cannot handle this event');
        },
      );

      await bus.publish(first!.subject, first!.bytes, first!.id);
      await waitFor(() => calls.length === 1, { message: 'timed out waiting for the first call' });
      await publishAll(rest);
      restPublished = true;

      const poisonCalls = (): Received[] => calls.filter((batch) => ids(batch).includes(poison.id)).flat().filter(({ event }) => event.id === poison.id);
      await waitFor(() => poisonCalls().length === 4, { message: 'timed out waiting for the poison event to be dead-lettered' });
      await sleep(600);
      expect(ids(calls[1]!)).toEqual(rest.map((event) => event.id));
      expect(calls.slice(2, 8).map(ids)).toEqual(rest.map((event) => [event.id]));
      expect(committed.map(ids)).toEqual([[first!.id], ...neighbours.map((event) => [event.id])]);
      expect(committed.flat().every(({ raw }) => raw.deliveryCount === 1)).toBe(true);
      // In the batch, alone, then redelivered until maxDeliver; nothing after the dead letter.
      expect(poisonCalls().map(({ raw }) => raw.deliveryCount)).toEqual([1, 1, 2, 3]);
      expect(calls.slice(8).every((batch) => batch.length === 1)).toBe(true);
      expect(calls.flat().filter(({ event }) => event.id !== poison.id)).toHaveLength(1 + 2 * neighbours.length);
    });

    it('dead-letters an undecodable event without handing it over, and batches its neighbours', async () => {
      const { subject, filter, durable } = scope();
      const [first, before, after] = [1, 2, 3].map((n) => testEvent(subject('item.created'), n));
      const undecodable = { id: `${first!.id}-garbage`, subject: subject('item.created'), bytes: new Uint8Array([0xff, 0xff, 0xff]) };
      let restPublished = false;
      const { calls } = await subscribeBatches({ durableName: durable, filterSubjects: [filter], retryBackoff: fastRetry }, async (batch) => {
        if (batch[0]?.event.id === first!.id) await waitFor(() => restPublished).then(() => sleep(200));
      });

      await bus.publish(first!.subject, first!.bytes, first!.id);
      await waitFor(() => calls.length === 1, { message: 'timed out waiting for the first call' });
      await publishAll([before!, undecodable, after!]);
      restPublished = true;

      await waitFor(() => calls.length === 2, { message: 'timed out waiting for the second call' });
      await sleep(500);
      expect(calls.map(ids)).toEqual([[first!.id], [before!.id, after!.id]]);
    });

    it('lets close() wait for the batch in progress, which is acked and not redelivered to the next subscription', async () => {
      const { subject, filter, durable } = scope();
      const [first, ...rest] = Array.from({ length: 6 }, (_, n) => testEvent(subject('item.created'), n));
      const options: BatchedConsumerOptions = { durableName: durable, filterSubjects: [filter], ackWaitMs: 1_000 };
      let released = false;
      const before = await subscribeBatches(options, async (batch) => {
        if (batch[0]?.event.id === first!.id) await waitFor(() => released);
      });
      await bus.publish(first!.subject, first!.bytes, first!.id);
      await waitFor(() => before.calls.length === 1, { message: 'timed out waiting for the first call' });
      await publishAll(rest);
      await sleep(200);

      let closed = false;
      const closing = before.subscription.close().then(() => (closed = true));
      await sleep(300);
      expect(closed).toBe(false);
      released = true;
      await closing;
      expect(ids(before.committed[0]!)).toEqual([first!.id]);

      const after = await subscribeBatches(options);
      const all = [first!, ...rest];
      await waitFor(() => before.committed.flat().length + after.committed.flat().length === all.length, {
        message: 'timed out waiting for every event',
      });
      await sleep(1_500); // past ackWait: an event left unacked by the closed subscription would come back now
      const handled = [...before.committed.flat(), ...after.committed.flat()];
      expect(ids(handled)).toEqual(all.map((event) => event.id));
      expect(after.calls.flat().every(({ raw }) => raw.deliveryCount === 1)).toBe(true);
    });
  });
});
