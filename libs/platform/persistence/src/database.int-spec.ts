import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, uniqueName, type TestDatabase } from '@llmops/platform-testing';
import { openDatabase, type Database, type DatabaseOptions } from './database.js';
import { sqlMigration } from './sql-migration.js';

// Each test gets a schema of its own in the file's database, so tests do not depend on each other's state.
function widgetsService(schema = uniqueName('widgets')) {
  const CreateWidgets1763800000000 = sqlMigration(
    'CreateWidgets1763800000000',
    [`CREATE TABLE ${schema}.widgets (id serial PRIMARY KEY, batch int NOT NULL, step int NOT NULL)`],
    [`DROP TABLE ${schema}.widgets`],
  );
  const AddWidgetColor1763800000001 = sqlMigration(
    'AddWidgetColor1763800000001',
    [`ALTER TABLE ${schema}.widgets ADD COLUMN color text`],
    [`ALTER TABLE ${schema}.widgets DROP COLUMN color`],
  );
  return { schema, CreateWidgets1763800000000, AddWidgetColor1763800000001 };
}

describe('openDatabase on PostgreSQL', () => {
  let testDatabase: TestDatabase;
  const open = (options: Omit<DatabaseOptions, 'service' | 'entities' | 'url'>): Promise<Database> =>
    openDatabase({ service: 'widgets', entities: [], url: testDatabase.url, ...options });

  beforeAll(async () => {
    testDatabase = await createTestDatabase({ prefix: 'persistence' });
  });

  afterAll(async () => {
    await testDatabase?.drop();
  });

  it('migrates once when two instances start together, into the service schema', async () => {
    const { schema, CreateWidgets1763800000000 } = widgetsService();
    const [a, b] = await Promise.all([
      open({ schema, migrations: [CreateWidgets1763800000000] }),
      open({ schema, migrations: [CreateWidgets1763800000000] }),
    ]);
    try {
      expect(await a.dataSource.query(`SELECT name FROM ${schema}.migrations`)).toEqual([
        { name: 'CreateWidgets1763800000000' },
      ]);
      expect(await a.dataSource.query(`SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [schema])).toEqual([
        { tablename: 'migrations' },
        { tablename: 'widgets' },
      ]);
      expect(a.embedded).toBe(false);
      expect(a.schema).toBe(schema);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('points unqualified SQL at the service schema and names the connection after the service', async () => {
    const { schema, CreateWidgets1763800000000 } = widgetsService();
    const db = await open({ schema, migrations: [CreateWidgets1763800000000] });
    try {
      await db.dataSource.query(`INSERT INTO widgets (batch, step) VALUES (1, 1)`);
      expect(await db.dataSource.query(`SELECT batch FROM ${schema}.widgets`)).toEqual([{ batch: 1 }]);
      expect(await db.dataSource.query(`SELECT current_setting('application_name') AS name`)).toEqual([{ name: 'widgets' }]);
      for (const step of [1, 2]) {
        expect(await db.preparedQuery('widget-steps', 'SELECT batch, $1::int AS step FROM widgets', [step])).toEqual([{ batch: 1, step }]);
      }
      await db.ping();
    } finally {
      await db.close();
    }
  });

  it('applies only new migrations on a later start, even with a one-connection pool', async () => {
    const { schema, CreateWidgets1763800000000, AddWidgetColor1763800000001 } = widgetsService();
    await (await open({ schema, migrations: [CreateWidgets1763800000000] })).close();
    const db = await open({ schema, poolSize: 1, migrations: [CreateWidgets1763800000000, AddWidgetColor1763800000001] });
    try {
      expect(await db.dataSource.query(`SELECT name FROM ${schema}.migrations ORDER BY id`)).toEqual([
        { name: 'CreateWidgets1763800000000' },
        { name: 'AddWidgetColor1763800000001' },
      ]);
      await db.dataSource.query(`INSERT INTO widgets (batch, step, color) VALUES (1, 1, 'red')`);
    } finally {
      await db.close();
    }
  });

  it('rolls back a failing migration, keeps the ones before it and releases the lock', async () => {
    const { schema, CreateWidgets1763800000000, AddWidgetColor1763800000001 } = widgetsService();
    const Broken1763800000001 = sqlMigration(
      'Broken1763800000001',
      [`CREATE TABLE ${schema}.half_done (id int)`, `SELECT * FROM ${schema}.no_such_table`],
      [],
    );
    await expect(open({ schema, migrations: [CreateWidgets1763800000000, Broken1763800000001] })).rejects.toThrow(/no_such_table/);

    const db = await open({ schema, migrations: [CreateWidgets1763800000000, AddWidgetColor1763800000001] });
    try {
      expect(await db.dataSource.query(`SELECT name FROM ${schema}.migrations ORDER BY id`)).toEqual([
        { name: 'CreateWidgets1763800000000' },
        { name: 'AddWidgetColor1763800000001' },
      ]);
      expect(await db.dataSource.query(`SELECT to_regclass('${schema}.half_done') IS NULL AS gone`)).toEqual([{ gone: true }]);
    } finally {
      await db.close();
    }
  });

  it('undoes the last migration with its down statements', async () => {
    const { schema, CreateWidgets1763800000000, AddWidgetColor1763800000001 } = widgetsService();
    const db = await open({ schema, migrations: [CreateWidgets1763800000000, AddWidgetColor1763800000001] });
    try {
      await db.dataSource.undoLastMigration();
      const columns = await db.dataSource.query(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'widgets' ORDER BY ordinal_position`,
        [schema],
      );
      expect(columns.map((c: { column_name: string }) => c.column_name)).toEqual(['id', 'batch', 'step']);
      expect(await db.dataSource.query(`SELECT name FROM ${schema}.migrations`)).toEqual([{ name: 'CreateWidgets1763800000000' }]);
    } finally {
      await db.close();
    }
  });

  it('refuses a schema name it would have to quote', async () => {
    await expect(open({ schema: 'Widgets; DROP TABLE x', migrations: [] })).rejects.toThrow(/plain identifier/);
  });
});
