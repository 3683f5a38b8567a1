import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { StorageType, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { deleteJetStreamStreams, sleep, TEST_NATS_URL, waitFor } from '@llmops/platform-testing';
import { deadLetterSubject, type DeliveredEvent } from './event-bus.js';
import { JetStreamBus } from './jetstream-bus.js';
import { testEvent } from './testing/test-events.js';

const suffix = randomBytes(4).toString('hex');
const stream = `JSBUS_${suffix}`;
const subjectRoot = `jsbus_${suffix}`;

describe(JetStreamBus.name, () => {
  let admin: NatsConnection;
  let manager: JetStreamManager;
  let bus: JetStreamBus;

  beforeAll(async () => {
    admin = await connect({ servers: TEST_NATS_URL });
    manager = await jetstreamManager(admin);
    bus = await JetStreamBus.connect({ url: TEST_NATS_URL, stream, subjectRoot, duplicateWindowMs: 60_000, name: 'jsbus-test' });
  });

  afterAll(async () => {
    await bus?.close();
    await admin?.close();
    await deleteJetStreamStreams([stream]);
  });

  it('creates a file-backed stream for the subject root with the duplicate window', async () => {
    const { config } = await manager.streams.info(stream);
    expect(config).toMatchObject({ subjects: [`${subjectRoot}.>`], storage: StorageType.File, duplicate_window: nanos(60_000) });
  });

  it('stores an event published twice with the same eventId once', async () => {
    const before = (await manager.streams.info(stream)).state.messages;
    const event = testEvent(`${subjectRoot}.dedup.item.created`, 1);

    await bus.publish(event.subject, event.bytes, event.id);
    await bus.publish(event.subject, event.bytes, event.id);

    expect((await manager.streams.info(stream)).state.messages).toBe(before + 1);
  });

  it('rejects a subject outside its stream and answers ping', async () => {
    const event = testEvent(`elsewhere_${suffix}.item.created`, 1);
    await expect(bus.publish(event.subject, event.bytes, event.id)).rejects.toThrow();
    await expect(bus.ping()).resolves.toBeUndefined();
  });

  it('publishes a poison event with its error to the dead-letter subject', async () => {
    const durableName = `poison_${suffix}`;
    const deadLetters = admin.subscribe(deadLetterSubject(subjectRoot, durableName), { max: 1 });
    const subscription = await bus.subscribe(
      { durableName, filterSubjects: [`${subjectRoot}.poison.>`], maxDeliver: 2, retryBackoff: { initialMs: 50, maxMs: 50 } },
      async () => {
        throw new Error('bad\nevent');
      },
    );
    const poison = testEvent(`${subjectRoot}.poison.item.created`, 1);

    await bus.publish(poison.subject, poison.bytes, poison.id);

    for await (const deadLetter of deadLetters) {
      expect(deadLetter.headers?.get('Nats-Msg-Id')).toBe(poison.id);
      expect(deadLetter.headers?.get('Llmops-Original-Subject')).toBe(poison.subject);
      expect(deadLetter.headers?.get('Llmops-Error')).toBe('bad event');
      expect(deadLetter.data).toEqual(poison.bytes);
    }
    await subscription.close();
  });

  it('resumes a durable consumer from another connection (a restarted process) without redelivering acked events', async () => {
    const durableName = `restart_${suffix}`;
    const options = { durableName, filterSubjects: [`${subjectRoot}.restart.>`] };
    const [first, second] = [1, 2].map((n) => testEvent(`${subjectRoot}.restart.item.created`, n));
    await bus.publish(first!.subject, first!.bytes, first!.id);
    const firstProcess = await JetStreamBus.connect({ url: TEST_NATS_URL, stream, subjectRoot });
    const seenByFirst: string[] = [];
    await firstProcess.subscribe(options, async (event) => void seenByFirst.push(event.id));
    await waitFor(() => seenByFirst.length === 1, { message: 'timed out waiting for the first event' });
    await firstProcess.close();

    await bus.publish(second!.subject, second!.bytes, second!.id);
    const secondProcess = await JetStreamBus.connect({ url: TEST_NATS_URL, stream, subjectRoot });
    const seenBySecond: string[] = [];
    await secondProcess.subscribe(options, async (event) => void seenBySecond.push(event.id));
    await waitFor(() => seenBySecond.length === 1, { message: 'timed out waiting for the second event' });
    await sleep(300);
    await secondProcess.close();

    expect(seenByFirst).toEqual([first!.id]);
    expect(seenBySecond).toEqual([second!.id]);
  });

  it('redelivers the events a crashed process fetched and never acked to the next subscriber, after ackWait', async () => {
    const options = { durableName: `crash_${suffix}`, filterSubjects: [`${subjectRoot}.crash.>`], ackWaitMs: 1_000, maxBatchSize: 50 };
    const events = [1, 2, 3].map((n) => testEvent(`${subjectRoot}.crash.item.created`, n));
    for (const event of events) await bus.publish(event.subject, event.bytes, event.id);
    const crashing = await JetStreamBus.connect({ url: TEST_NATS_URL, stream, subjectRoot, name: 'jsbus-crashing' });
    const stuck: string[] = [];
    await crashing.subscribeBatches(options, (batch) => {
      stuck.push(...batch.map(({ event }) => event.id));
      return new Promise<void>(() => undefined); // the commit never finishes
    });
    await waitFor(() => stuck.length > 0, { message: 'timed out waiting for the crashing handler' });

    await crash(crashing);
    const crashedAt = Date.now();
    const redelivered: DeliveredEvent[] = [];
    const subscription = await bus.subscribeBatches(options, async (batch) => void redelivered.push(...batch.map(({ raw }) => raw)));

    await waitFor(() => redelivered.length === events.length, { message: 'timed out waiting for the redeliveries' });
    expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(500);
    expect(redelivered.map(({ eventId }) => eventId)).toEqual(events.map((event) => event.id));
    expect(redelivered.map(({ deliveryCount }) => deliveryCount)).toEqual([2, 2, 2]);
    await subscription.close();
  });

  it('lets a batch consumer fetch and hold two full batches', async () => {
    const durableName = `batched_${suffix}`;
    await (await bus.subscribeBatches({ durableName, filterSubjects: [`${subjectRoot}.batched.>`], maxBatchSize: 800 }, async () => undefined)).close();

    const { config } = await manager.consumers.info(stream, durableName);
    expect(config.max_ack_pending).toBe(1_600);
  });

  it('updates an existing durable consumer when its options change', async () => {
    const durableName = `update_${suffix}`;
    const filterSubjects = [`${subjectRoot}.update.>`];
    await (await bus.subscribe({ durableName, filterSubjects, maxDeliver: 3 }, async () => undefined)).close();

    await (await bus.subscribe({ durableName, filterSubjects, maxDeliver: 7, ackWaitMs: 10_000 }, async () => undefined)).close();

    const { config } = await manager.consumers.info(stream, durableName);
    expect(config).toMatchObject({ max_deliver: 7, ack_wait: nanos(10_000), filter_subject: filterSubjects[0] });
  });
});

/** A process dying mid-batch: its connection drops without close(), which would wait for the handler. */
async function crash(bus: JetStreamBus): Promise<void> {
  await (bus as unknown as { connection: NatsConnection }).connection.close();
}
