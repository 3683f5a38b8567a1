import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { openDatabase, type Database, type DatabaseOptions } from './database.js';
import { sqlMigration } from './sql-migration.js';

const CreateWidgets1763800000000 = sqlMigration(
  'CreateWidgets1763800000000',
  [`CREATE TABLE widgets_svc.widgets (id serial PRIMARY KEY, batch int NOT NULL, step int NOT NULL)`],
  [`DROP TABLE widgets_svc.widgets`],
);
const CreateEmbeddings1763800000001 = sqlMigration(
  'CreateEmbeddings1763800000001',
  [`CREATE TABLE widgets_svc.embeddings (id int PRIMARY KEY, embedding vector(3) NOT NULL)`],
  [`DROP TABLE widgets_svc.embeddings`],
);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// TypeORM types its pg pool as `any`; the spec only reads the pool's size.
const embeddedPool = (db: Database): pg.Pool => (db.dataSource.driver as unknown as { master: pg.Pool }).master;
const count = async (db: Database, where = 'true'): Promise<number> =>
  (await db.dataSource.query(`SELECT count(*)::int AS n FROM widgets WHERE ${where}`))[0].n;

describe('openDatabase on embedded PGlite', () => {
  let dataDir: string;
  let options: DatabaseOptions;
  let db: Database;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'llmops-pglite-'));
    options = {
      service: 'widgets',
      schema: 'widgets_svc',
      dataDir: join(dataDir, 'widgets', 'pg'),
      entities: [],
      migrations: [CreateWidgets1763800000000, CreateEmbeddings1763800000001],
    };
    db = await openDatabase(options);
  });

  afterAll(async () => {
    try {
      await db?.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('migrates into the service schema and points unqualified SQL at it', async () => {
    expect(db.embedded).toBe(true);
    expect(db.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(await db.dataSource.query(`SELECT name FROM widgets_svc.migrations ORDER BY id`)).toEqual([
      { name: 'CreateWidgets1763800000000' },
      { name: 'CreateEmbeddings1763800000001' },
    ]);
    expect(await db.dataSource.query(`SELECT current_schema() AS schema`)).toEqual([{ schema: 'widgets_svc' }]);
    for (const value of ['a', 'b']) {
      expect(await db.preparedQuery('schema-and-value', 'SELECT current_schema() AS schema, $1::text AS value', [value])).toEqual([
        { schema: 'widgets_svc', value },
      ]);
    }
  });

  it('runs concurrent transactions and plain writes without interleaving or hanging', async () => {
    const transactions = Array.from({ length: 20 }, (_, batch) =>
      db.dataSource.transaction(async (manager) => {
        await manager.query(`INSERT INTO widgets (batch, step) VALUES ($1, 1)`, [batch]);
        await sleep(3);
        await manager.query(`INSERT INTO widgets (batch, step) VALUES ($1, 2)`, [batch]);
      }),
    );
    const plainWrites = Array.from({ length: 20 }, () => db.dataSource.query(`INSERT INTO widgets (batch, step) VALUES (-1, 0)`));
    const plainReads = Array.from({ length: 20 }, () => db.dataSource.query(`SELECT count(*) FROM widgets`));
    await Promise.all([...transactions, ...plainWrites, ...plainReads]);

    // Ids come from a sequence in insertion order, so a transaction's rows are adjacent unless something interleaved.
    const rows: Array<{ id: number; batch: number; step: number }> = await db.dataSource.query(
      `SELECT id, batch, step FROM widgets WHERE batch >= 0 ORDER BY id`,
    );
    expect(rows).toHaveLength(40);
    for (let i = 0; i < rows.length; i += 2) {
      expect([rows[i]!.batch, rows[i]!.step, rows[i + 1]!.batch, rows[i + 1]!.step]).toEqual([rows[i]!.batch, 1, rows[i]!.batch, 2]);
      expect(rows[i + 1]!.id).toBe(rows[i]!.id + 1);
    }
    expect(await count(db, 'batch = -1')).toBe(20);
    // PGlite is one session: a second pooled connection would share its SETs and advisory locks.
    expect(embeddedPool(db).totalCount).toBe(1);
  }, 20_000);

  it('rolls back a failed transaction without touching the others', async () => {
    const before = await count(db);
    const results = await Promise.allSettled([
      db.dataSource.transaction(async (manager) => {
        await manager.query(`INSERT INTO widgets (batch, step) VALUES (100, 1)`);
        await sleep(3);
        throw new Error('boom');
      }),
      db.dataSource.transaction((manager) => manager.query(`INSERT INTO widgets (batch, step) VALUES (101, 1)`)),
      db.dataSource.query(`INSERT INTO widgets (batch, step) VALUES (102, 1)`),
    ]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(await db.dataSource.query(`SELECT batch FROM widgets WHERE batch >= 100 ORDER BY batch`)).toEqual([
      { batch: 101 },
      { batch: 102 },
    ]);
    expect(await count(db)).toBe(before + 2);
  }, 20_000);

  it('serves pgvector', async () => {
    await db.dataSource.query(`INSERT INTO embeddings VALUES (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0.9,0.1,0]')`);
    const nearest: Array<{ id: number }> = await db.dataSource.query(`SELECT id FROM embeddings ORDER BY embedding <-> '[1,0,0]' LIMIT 2`);
    expect(nearest.map((row) => row.id)).toEqual([1, 3]);
  });

  it('fails ping with a clear message while its one connection is busy, and passes once it is free', async () => {
    const queryRunner = db.dataSource.createQueryRunner();
    await queryRunner.startTransaction();
    try {
      await expect(db.ping(100)).rejects.toThrow('database did not answer SELECT 1 within 100 ms');
    } finally {
      await queryRunner.rollbackTransaction();
      await queryRunner.release();
    }
    await db.ping();
  }, 20_000);

  it('accepts a replacement connection while the dropped one is still closing', async () => {
    // A pool that drops idle clients after 5 ms reconnects on nearly every query, racing the server's close handling.
    const pool = new pg.Pool({ connectionString: db.url, max: 1, idleTimeoutMillis: 5 });
    try {
      for (let i = 0; i < 30; i++) {
        expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
        await sleep(10);
      }
    } finally {
      await pool.end();
    }
    await db.ping();
  }, 20_000);

  it('keeps its data across close and reopen on the same directory, without migrating again', async () => {
    await db.dataSource.query(`INSERT INTO widgets (batch, step) VALUES (999, 9)`);
    await db.close();
    db = await openDatabase(options);
    expect(await db.dataSource.query(`SELECT step FROM widgets WHERE batch = 999`)).toEqual([{ step: 9 }]);
    expect(await db.dataSource.query(`SELECT count(*)::int AS n FROM widgets_svc.migrations`)).toEqual([{ n: 2 }]);
  }, 30_000);
});
