import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '@llmops/platform-testing';
import { openDatabase, type Database } from './database.js';
import { sqlMigration } from './sql-migration.js';

const CreateWidgets1763800000000 = sqlMigration(
  'CreateWidgets1763800000000',
  [`CREATE TABLE widgets_svc.widgets (id serial PRIMARY KEY, batch int NOT NULL, step int NOT NULL)`],
  [`DROP TABLE widgets_svc.widgets`],
);
const AddEmbeddings1763800000001 = sqlMigration(
  'AddEmbeddings1763800000001',
  [`CREATE TABLE widgets_svc.embeddings (id int PRIMARY KEY, embedding vector(3) NOT NULL)`],
  [`DROP TABLE widgets_svc.embeddings`],
);

const options = { service: 'widgets', schema: 'widgets_svc', entities: [], migrations: [CreateWidgets1763800000000] };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('openDatabase on PostgreSQL', () => {
  let testDatabase: TestDatabase;

  beforeAll(async () => {
    testDatabase = await createTestDatabase({ prefix: 'persistence' });
  });

  afterAll(async () => {
    await testDatabase?.drop();
  });

  it('migrates exactly once when two instances start together, into the service schema', async () => {
    const [a, b] = await Promise.all([
      openDatabase({ ...options, url: testDatabase.url }),
      openDatabase({ ...options, url: testDatabase.url }),
    ]);
    try {
      const recorded = await a.dataSource.query(`SELECT name FROM widgets_svc.migrations`);
      expect(recorded).toEqual([{ name: 'CreateWidgets1763800000000' }]);
      await b.dataSource.query(`INSERT INTO widgets (batch, step) VALUES (1, 1)`);
      const rows = await a.dataSource.query(`SELECT count(*)::int AS n FROM widgets_svc.widgets`);
      expect(rows[0].n).toBe(1);
      expect(a.embedded).toBe(false);
      await a.ping();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('undoes the last migration with its down statements', async () => {
    const db = await openDatabase({ ...options, url: testDatabase.url });
    try {
      await db.dataSource.undoLastMigration();
      const tables = await db.dataSource.query(`SELECT 1 FROM pg_tables WHERE schemaname = 'widgets_svc' AND tablename = 'widgets'`);
      expect(tables).toHaveLength(0);
    } finally {
      await db.close();
    }
  });

  it('refuses a migration name TypeORM could not order', () => {
    expect(() => sqlMigration('create-widgets', [], [])).toThrow(/13-digit timestamp/);
  });
});

describe('openDatabase on embedded PGlite', () => {
  let dataDir: string;
  let db: Database;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'llmops-pglite-'));
    db = await openDatabase({ ...options, migrations: [CreateWidgets1763800000000, AddEmbeddings1763800000001], dataDir });
  });

  afterAll(async () => {
    await db?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs concurrent transactions one after another, without interleaving or hanging', async () => {
    const batches = Array.from({ length: 20 }, (_, batch) => batch);
    const work = batches.map((batch) =>
      db.dataSource.transaction(async (manager) => {
        await manager.query(`INSERT INTO widgets (batch, step) VALUES ($1, 1)`, [batch]);
        await sleep(2);
        await manager.query(`INSERT INTO widgets (batch, step) VALUES ($1, 2)`, [batch]);
      }),
    );
    const reads = batches.map(() => db.dataSource.query(`SELECT count(*) FROM widgets`));
    await Promise.all([...work, ...reads]);
    const rows: Array<{ batch: number; step: number }> = await db.dataSource.query(`SELECT batch, step FROM widgets ORDER BY id`);
    expect(rows).toHaveLength(40);
    for (let i = 0; i < rows.length; i += 2) {
      expect(rows[i]!.batch).toBe(rows[i + 1]!.batch);
      expect([rows[i]!.step, rows[i + 1]!.step]).toEqual([1, 2]);
    }
  });

  it('rolls back a failed transaction without touching the others', async () => {
    const before = (await db.dataSource.query(`SELECT count(*)::int AS n FROM widgets`))[0].n;
    const results = await Promise.allSettled([
      db.dataSource.transaction(async (manager) => {
        await manager.query(`INSERT INTO widgets (batch, step) VALUES (100, 1)`);
        throw new Error('boom');
      }),
      db.dataSource.transaction((manager) => manager.query(`INSERT INTO widgets (batch, step) VALUES (101, 1)`)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    const after: Array<{ batch: number }> = await db.dataSource.query(`SELECT batch FROM widgets WHERE batch >= 100`);
    expect(after).toEqual([{ batch: 101 }]);
    expect((await db.dataSource.query(`SELECT count(*)::int AS n FROM widgets`))[0].n).toBe(before + 1);
  });

  it('serves pgvector', async () => {
    await db.dataSource.query(`INSERT INTO embeddings VALUES (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0.9,0.1,0]')`);
    const nearest: Array<{ id: number }> = await db.dataSource.query(
      `SELECT id FROM embeddings ORDER BY embedding <-> '[1,0,0]' LIMIT 2`,
    );
    expect(nearest.map((r) => r.id)).toEqual([1, 3]);
  });

  it('keeps its data across close and reopen on the same directory', async () => {
    await db.dataSource.query(`INSERT INTO widgets (batch, step) VALUES (999, 9)`);
    await db.close();
    db = await openDatabase({ ...options, migrations: [CreateWidgets1763800000000, AddEmbeddings1763800000001], dataDir });
    const rows = await db.dataSource.query(`SELECT step FROM widgets WHERE batch = 999`);
    expect(rows).toEqual([{ step: 9 }]);
    expect(db.embedded).toBe(true);
  });
});
