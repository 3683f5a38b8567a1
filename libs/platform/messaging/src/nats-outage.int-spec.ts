import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NatsServerProcess, sleep, waitFor } from '@llmops/platform-testing';
import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { Subscription } from './event-bus.js';
import { JetStreamBus } from './jetstream-bus.js';
import { Outbox } from './outbox.js';
import { OutboxRelay } from './outbox-relay.js';
import { ProcessedEvents } from './processed-events.js';
import { createTestDataSource, type TestDataSource } from './testing/test-data-source.js';

const schema = 'inventory';
const suffix = randomBytes(4).toString('hex');
const stream = `OUTAGE_${suffix}`;
const subjectRoot = `outage_${suffix}`;
const BURSTS = 10;
const EVENTS_PER_BURST = 100;
const TOTAL = BURSTS * EVENTS_PER_BURST;

// Outbox -> relay -> JetStream -> idempotent consumer, with the NATS server stopped in the middle of the writes.
describe('outbox delivery across a NATS outage', () => {
  let nats: NatsServerProcess;
  let database: TestDataSource;
  let dataSource: DataSource;
  let producerBus: JetStreamBus | undefined;
  let consumerBus: JetStreamBus | undefined;
  let relay: OutboxRelay | undefined;
  let subscription: Subscription | undefined;

  beforeAll(async () => {
    nats = await NatsServerProcess.start();
    database = await createTestDataSource({ poolSize: 4, outboxSchema: schema });
    dataSource = database.dataSource;
    await dataSource.query(`CREATE TABLE ${schema}.side_effects (event_id text NOT NULL, n int NOT NULL)`);
  });

  afterAll(async () => {
    await subscription?.close();
    await relay?.stop();
    await producerBus?.close();
    await consumerBus?.close();
    await nats?.dispose(); // the stream lives in the server's temporary store, which goes with it
    await database?.drop();
  });

  it('delivers each of 1,000 events exactly once to an idempotent consumer when NATS restarts mid-stream', async () => {
    const registry = new Registry();
    producerBus = await JetStreamBus.connect({ url: nats.url, stream, subjectRoot, requestTimeoutMs: 2_000, name: 'producer' });
    consumerBus = await JetStreamBus.connect({ url: nats.url, stream, subjectRoot, name: 'consumer' });
    relay = new OutboxRelay({ dataSource, schema, bus: producerBus, pollIntervalMs: 20, maxBackoffMs: 1_000, registry });
    relay.start();

    const outbox = new Outbox({ source: 'inventory', schema, subjectRoot });
    const processed = new ProcessedEvents(schema);
    let deliveries = 0;
    subscription = await consumerBus.subscribe(
      { durableName: 'stock-projection', filterSubjects: [`${subjectRoot}.>`], ackWaitMs: 3_000, batchSize: 50 },
      async (event) => {
        deliveries += 1;
        await dataSource.transaction(async (manager) => {
          if (!(await processed.markProcessed(manager, event.id, 'stock-projection'))) return;
          const n = (event.payload?.['n'] as number | undefined) ?? -1;
          await manager.query(`INSERT INTO ${schema}.side_effects (event_id, n) VALUES ($1, $2)`, [event.id, n]);
        });
      },
    );

    const writeBurst = (burst: number): Promise<void> =>
      dataSource.transaction(async (manager) => {
        for (let i = 0; i < EVENTS_PER_BURST; i += 1) {
          const n = burst * EVENTS_PER_BURST + i;
          await outbox.add(manager, { type: 'stock.adjusted', subject: `items/${n}`, payload: { n } });
        }
      });

    for (let burst = 0; burst < BURSTS; burst += 1) {
      await writeBurst(burst);
      if (burst === 3) {
        await sleep(25); // let the relay start publishing this burst, then crash the server under it
        await nats.kill();
      }
      if (burst === 6) {
        await sleep(3_000); // the outage: writes keep committing, events wait in the outbox
        expect(await countRows(dataSource, `outbox WHERE published_at IS NULL`)).toBeGreaterThan(0);
        await nats.restart();
      }
      await sleep(100);
    }

    await waitFor(async () => (await countRows(dataSource, 'side_effects', 'DISTINCT event_id')) === TOTAL, { timeoutMs: 60_000, message: 'timed out waiting for all side effects' });

    expect(await countRows(dataSource, 'side_effects')).toBe(TOTAL); // no duplicate side effects
    expect(await countRows(dataSource, 'side_effects', 'DISTINCT n')).toBe(TOTAL);
    expect(await countRows(dataSource, 'outbox WHERE published_at IS NULL')).toBe(0);
    expect(deliveries).toBeGreaterThanOrEqual(TOTAL); // typically ~1,060: acks lost in the crash were redelivered
    expect(await registry.getSingleMetricAsString('outbox_publish_failures_total')).toMatch(/\} [1-9]/); // it did see the outage
    const admin = await connect({ servers: nats.url });
    const { state } = await (await jetstreamManager(admin)).streams.info(stream);
    await admin.close();
    expect(state.messages).toBe(TOTAL); // republished events were deduplicated by msgID
  }, 120_000);

  it('tells a listener when its feed resumes after an outage, and keeps it hearing what comes after', async () => {
    const listenerBus = await JetStreamBus.connect({ url: nats.url, stream, subjectRoot, name: 'listener' });
    const publisherBus = await JetStreamBus.connect({ url: nats.url, stream, subjectRoot, requestTimeoutMs: 2_000, name: 'publisher' });
    const heard: string[] = [];
    let resumed = 0;
    let closedListenerResumed = 0;
    const listener = listenerBus.listen(`${subjectRoot}.settings.>`, (subject) => heard.push(subject), { onResume: () => (resumed += 1) });
    const closed = listenerBus.listen(`${subjectRoot}.settings.>`, () => undefined, { onResume: () => (closedListenerResumed += 1) });
    await closed.close();
    // A listener's subscription reaches the server a moment after listen() returns: publish until it is heard.
    let sent = 0;
    const publishUntilHeard = (name: string): Promise<unknown> =>
      waitFor(
        async () => {
          await publisherBus.publish(`${subjectRoot}.settings.${name}`, new Uint8Array([1]), `${name}-${suffix}-${sent++}`).catch(() => undefined);
          await sleep(50);
          return heard.includes(`${subjectRoot}.settings.${name}`);
        },
        { timeoutMs: 15_000, message: `timed out waiting to hear "${name}"` },
      );
    try {
      await publishUntilHeard('before');

      await nats.kill();
      await sleep(500);
      await nats.restart();
      await waitFor(() => resumed === 1, { timeoutMs: 15_000, message: 'timed out waiting for onResume' });

      await publishUntilHeard('after');
      expect(resumed).toBe(1);
      expect(closedListenerResumed).toBe(0);
    } finally {
      await listener.close();
      await listenerBus.close();
      await publisherBus.close();
    }
  }, 60_000);
});

async function countRows(dataSource: DataSource, from: string, what = '*'): Promise<number> {
  const [row]: { count: number }[] = await dataSource.query(`SELECT count(${what})::int AS count FROM ${schema}.${from}`);
  return row?.count ?? -1;
}
