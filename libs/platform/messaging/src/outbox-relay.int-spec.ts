import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { waitFor } from '@llmops/platform-testing';
import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { decodeEvent } from './event-codec.js';
import type { EventBus, Subscription } from './event-bus.js';
import { Outbox } from './outbox.js';
import { outboxMigrationSql } from './outbox-migration.js';
import { OutboxRelay } from './outbox-relay.js';
import { ProcessedEvents } from './processed-events.js';
import { createTestDataSource, type TestDataSource } from './testing/test-data-source.js';

const schema = 'orders';

/** Records publishes; `failAfter` makes every publish past that many fail, like a bus that went down. */
class RecordingBus implements EventBus {
  readonly published: { subject: string; eventId: string; envelope: Uint8Array }[] = [];
  failAfter = Infinity;

  async publish(subject: string, envelope: Uint8Array, eventId: string): Promise<void> {
    if (this.published.length >= this.failAfter) throw new Error('bus unavailable');
    this.published.push({ subject, eventId, envelope });
  }

  async subscribe(): Promise<Subscription> {
    throw new Error('not used');
  }

  async subscribeBatches(): Promise<Subscription> {
    throw new Error('not used');
  }

  listen(): Subscription {
    throw new Error('not used');
  }

  pings = 0;

  async ping(): Promise<void> {
    this.pings++;
    if (this.published.length >= this.failAfter) throw new Error('bus unavailable');
  }

  async close(): Promise<void> {}
}

describe(OutboxRelay.name, () => {
  let database: TestDataSource;
  let dataSource: DataSource;
  const outbox = new Outbox({ source: 'order-service', schema });

  beforeAll(async () => {
    // One connection, as in the embedded PGlite mode: the relay must never need a second one.
    database = await createTestDataSource({ poolSize: 1, outboxSchema: schema });
    dataSource = database.dataSource;
  });

  afterAll(async () => {
    await database?.drop();
  });

  beforeEach(async () => {
    await dataSource.query(`DELETE FROM ${schema}.outbox`);
  });

  async function addEvents(count: number, from = 0): Promise<string[]> {
    return dataSource.transaction(async (manager) => {
      const ids: string[] = [];
      for (let n = from; n < from + count; n += 1) {
        const envelope = await outbox.add(manager, { type: 'order.placed', subject: `orders/${n}`, payload: { n } });
        ids.push(envelope.id);
      }
      return ids;
    });
  }

  async function unpublishedCount(): Promise<number> {
    const [row]: { count: number }[] = await dataSource.query(
      `SELECT count(*)::int AS count FROM ${schema}.outbox WHERE published_at IS NULL`,
    );
    return row?.count ?? -1;
  }

  it('keeps no event from a rolled-back transaction and relays committed ones in order, marked published', async () => {
    const bus = new RecordingBus();
    const relay = new OutboxRelay({ dataSource, schema, bus, batchSize: 7 });
    const rolledBack = dataSource.transaction(async (manager) => {
      await outbox.add(manager, { type: 'order.placed', subject: 'orders/lost', payload: {} });
      throw new Error('business rule violated');
    });
    await expect(rolledBack).rejects.toThrow('business rule violated');
    const first = await addEvents(10);
    const second = await addEvents(10, 10);

    expect(await relay.drain()).toBe(20);

    expect(bus.published.map(({ eventId }) => eventId)).toEqual([...first, ...second]);
    expect(bus.published[0]?.subject).toBe('events.order-service.order.placed');
    const envelope = decodeEvent(bus.published[3]!.envelope);
    expect(envelope).toMatchObject({ id: first[3], source: 'order-service', type: 'order.placed', subject: 'orders/3' });
    expect(envelope.payload).toEqual({ n: 3 });
    expect(await unpublishedCount()).toBe(0);
    expect(await relay.drain()).toBe(0);
  });

  it('marks published without a durable-commit wait, and leaves the shared connection committing durably', async () => {
    const relay = new OutboxRelay({ dataSource, schema, bus: new RecordingBus() });
    await addEvents(3);
    // A deferred trigger runs at commit: it sees the setting the relay's transaction commits with.
    await dataSource.query(`CREATE TABLE ${schema}.commit_modes (mode text)`);
    await dataSource.query(`
      CREATE FUNCTION ${schema}.record_commit_mode() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO ${schema}.commit_modes VALUES (current_setting('synchronous_commit')); RETURN NULL; END $$`);
    await dataSource.query(`
      CREATE CONSTRAINT TRIGGER record_commit_mode AFTER UPDATE ON ${schema}.outbox
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${schema}.record_commit_mode()`);
    try {
      expect(await relay.drain()).toBe(3);
      const modes: { mode: string }[] = await dataSource.query(`SELECT DISTINCT mode FROM ${schema}.commit_modes`);
      expect(modes).toEqual([{ mode: 'off' }]);
      // One pooled connection: had the setting leaked past the relay's transaction, business writes would get it.
      const [after]: { synchronous_commit: string }[] = await dataSource.query('SHOW synchronous_commit');
      expect(after?.synchronous_commit).toBe('on');
      expect(await unpublishedCount()).toBe(0);
    } finally {
      await dataSource.query(`DROP TRIGGER record_commit_mode ON ${schema}.outbox`);
      await dataSource.query(`DROP TABLE ${schema}.commit_modes`);
      await dataSource.query(`DROP FUNCTION ${schema}.record_commit_mode()`);
    }
  });

  it('stops at a failed publish, keeps the rest in the outbox and later continues in order', async () => {
    const bus = new RecordingBus();
    bus.failAfter = 4;
    const relay = new OutboxRelay({ dataSource, schema, bus, batchSize: 10 });
    const ids = await addEvents(10);

    await expect(relay.drain()).rejects.toThrow('bus unavailable');
    expect(await unpublishedCount()).toBe(6);

    bus.failAfter = Infinity;
    expect(await relay.drain()).toBe(6);
    expect(bus.published.map(({ eventId }) => eventId)).toEqual(ids);
  });

  it('relays in the background, backs off while the bus is down and reports metrics', async () => {
    const bus = new RecordingBus();
    bus.failAfter = 0;
    const registry = new Registry();
    const relay = new OutboxRelay({ dataSource, schema, bus, pollIntervalMs: 10, maxBackoffMs: 50, registry });
    relay.start();
    try {
      const ids = await addEvents(5);
      await waitFor(async () => (await registry.getSingleMetricAsString('outbox_pending')).includes('outbox_pending{schema="orders"} 5'), { message: 'timed out waiting for the pending gauge' });

      bus.failAfter = Infinity;
      await waitFor(() => bus.published.length === 5, { message: 'timed out waiting for the background relay' });
      expect(bus.published.map(({ eventId }) => eventId)).toEqual(ids);
      await waitFor(async () => (await unpublishedCount()) === 0, { message: 'timed out waiting for rows marked published' });
    } finally {
      await relay.stop();
    }
    const metrics = await registry.metrics();
    expect(metrics).toContain('outbox_published_total{schema="orders"} 5');
    expect(metrics).toMatch(/outbox_publish_failures_total\{schema="orders"\} [1-9]/);
  });

  it('publishes at once when nudged after a commit, long before its next poll', async () => {
    const bus = new RecordingBus();
    const relay = new OutboxRelay({ dataSource, schema, bus, pollIntervalMs: 600_000 });
    relay.start();
    try {
      // The first poll runs at start; afterwards only a nudge can publish within the test's time.
      await waitFor(async () => (await unpublishedCount()) === 0, { message: 'the first poll did not run' });
      const ids = await addEvents(3);
      relay.nudge();
      await waitFor(() => bus.published.length === 3, { timeoutMs: 5_000, message: 'the nudge did not publish' });
      expect(bus.published.map(({ eventId }) => eventId)).toEqual(ids);
      // A nudge while a batch is under way is not lost: the relay runs another batch straight after.
      const more = await addEvents(2, 3);
      relay.nudge();
      relay.nudge();
      await waitFor(() => bus.published.length === 5, { timeoutMs: 5_000, message: 'the second nudge did not publish' });
      expect(bus.published.slice(3).map(({ eventId }) => eventId)).toEqual(more);
    } finally {
      await relay.stop();
    }
  });

  it('keeps backing off while the bus fails, however often commits nudge it', async () => {
    const bus = new RecordingBus();
    bus.failAfter = 0;
    const relay = new OutboxRelay({ dataSource, schema, bus, pollIntervalMs: 1_000, maxBackoffMs: 60_000 });
    await addEvents(1);
    relay.start();
    try {
      // The first batch fails at once; the backoff that follows is 2 s.
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (let i = 0; i < 20; i++) {
        relay.nudge();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // No attempt (each one after a failure starts with a ping) was made within the backoff.
      expect(bus.pings).toBe(0);
      expect(bus.published).toEqual([]);
    } finally {
      await relay.stop();
    }
  });

  it('deletes published rows older than the retention', async () => {
    const relay = new OutboxRelay({ dataSource, schema, bus: new RecordingBus(), pollIntervalMs: 10, retentionMs: 0, cleanupIntervalMs: 0 });
    await addEvents(3);
    relay.start();
    try {
      await waitFor(async () => {
        const [row]: { count: number }[] = await dataSource.query(`SELECT count(*)::int AS count FROM ${schema}.outbox`);
        return row?.count === 0;
      }, { message: 'published rows were not deleted' });
    } finally {
      await relay.stop();
    }
  });
});

describe(ProcessedEvents.name, () => {
  let database: TestDataSource;
  const processed = new ProcessedEvents(schema);

  beforeAll(async () => {
    database = await createTestDataSource({ poolSize: 2, outboxSchema: schema });
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('says true the first time an event is processed by a consumer and false afterwards', async () => {
    const { dataSource } = database;
    const eventId = 'c1a4a3a4-0000-4000-8000-000000000001';
    expect(await dataSource.transaction((manager) => processed.markProcessed(manager, eventId, 'billing'))).toBe(true);
    expect(await dataSource.transaction((manager) => processed.markProcessed(manager, eventId, 'billing'))).toBe(false);
    expect(await dataSource.transaction((manager) => processed.markProcessed(manager, eventId, 'audit'))).toBe(true);
  });

  it('forgets the mark when the consumer transaction rolls back, so the redelivery is processed', async () => {
    const { dataSource } = database;
    const eventId = 'c1a4a3a4-0000-4000-8000-000000000002';
    const failedHandler = dataSource.transaction(async (manager) => {
      await processed.markProcessed(manager, eventId, 'billing');
      throw new Error('handler failed');
    });
    await expect(failedHandler).rejects.toThrow('handler failed');

    expect(await dataSource.transaction((manager) => processed.markProcessed(manager, eventId, 'billing'))).toBe(true);
  });

  it('has a down migration that removes both tables', async () => {
    const { dataSource } = database;
    const migration = outboxMigrationSql('scratch');
    for (const statement of migration.up) await dataSource.query(statement);
    for (const statement of migration.down) await dataSource.query(statement);
    const tables: unknown[] = await dataSource.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = 'scratch'`);
    expect(tables).toHaveLength(0);
  });
});
