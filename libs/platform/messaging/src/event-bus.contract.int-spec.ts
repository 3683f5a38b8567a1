import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EventEnvelope } from '@llmops/contracts';
import { deleteJetStreamStreams, sleep, TEST_NATS_URL, waitFor } from '@llmops/platform-testing';
import type { ConsumerOptions, DeliveredEvent, EventBus, Subscription } from './event-bus.js';
import { InProcessBus } from './in-process-bus.js';
import { JetStreamBus } from './jetstream-bus.js';
import { testEvent } from './testing/test-events.js';

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
});
