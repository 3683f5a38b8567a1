import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { decodeEvent } from './event-codec.js';
import { Outbox } from './outbox.js';
import { OutboxGroupCommit } from './outbox-group-commit.js';
import { createTestDataSource, type TestDataSource } from './testing/test-data-source.js';

const schema = 'vault';

describe(OutboxGroupCommit.name, () => {
  let database: TestDataSource;
  let dataSource: DataSource;
  const outbox = new Outbox({ source: 'secret-service', schema });

  beforeAll(async () => {
    database = await createTestDataSource({ outboxSchema: schema });
    dataSource = database.dataSource;
  });

  afterAll(async () => {
    await database?.drop();
  });

  beforeEach(async () => {
    await dataSource.query(`DELETE FROM ${schema}.outbox`);
  });

  async function stored(): Promise<Array<{ id: string; n: unknown }>> {
    const rows: Array<{ id: string; envelope: Buffer }> = await dataSource.query(`SELECT id, envelope FROM ${schema}.outbox ORDER BY seq`);
    return rows.map((row) => ({ id: row.id, n: decodeEvent(row.envelope).payload?.n }));
  }

  it('commits each event before its add() resolves, many concurrent ones in few statements, in order', async () => {
    const groupCommit = new OutboxGroupCommit(dataSource, outbox);
    let statements = 0;
    const query = dataSource.query.bind(dataSource);
    dataSource.query = ((sql: string, parameters?: unknown[]) => {
      if (sql.startsWith('INSERT')) statements++;
      return query(sql, parameters);
    }) as DataSource['query'];
    try {
      const adds = Array.from({ length: 40 }, (_, n) => groupCommit.add({ type: 'secret.revealed', subject: `secrets/${n}`, payload: { n } }));
      const first = await adds[0]!;
      // Resolved means committed: a fresh read already sees it.
      expect((await stored()).map((row) => row.id)).toContain(first.id);
      const events = await Promise.all(adds);
      expect(await stored()).toEqual(events.map((event, n) => ({ id: event.id, n })));
      // The first goes alone; the 39 queued meanwhile share the next statement.
      expect(statements).toBe(2);
    } finally {
      dataSource.query = query;
    }
  });

  it('rejects every add() of a batch that could not be written, and keeps none of its events', async () => {
    const groupCommit = new OutboxGroupCommit(dataSource, outbox);
    await dataSource.query(`CREATE FUNCTION ${schema}.refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit storage unavailable'; END $$ LANGUAGE plpgsql`);
    await dataSource.query(`CREATE TRIGGER refuse BEFORE INSERT ON ${schema}.outbox FOR EACH ROW EXECUTE FUNCTION ${schema}.refuse()`);
    try {
      const adds = Array.from({ length: 5 }, (_, n) => groupCommit.add({ type: 'secret.revealed', subject: `secrets/${n}`, payload: { n } }));
      const outcomes = await Promise.allSettled(adds);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(5).fill('rejected'));
      expect(String((outcomes[0] as PromiseRejectedResult).reason)).toContain('audit storage unavailable');
      expect(await stored()).toEqual([]);
    } finally {
      await dataSource.query(`DROP TRIGGER refuse ON ${schema}.outbox`);
      await dataSource.query(`DROP FUNCTION ${schema}.refuse()`);
    }
    // And it recovers once the storage does.
    const event = await groupCommit.add({ type: 'secret.revealed', subject: 'secrets/after', payload: { n: 'after' } });
    expect(await stored()).toEqual([{ id: event.id, n: 'after' }]);
  });
});
