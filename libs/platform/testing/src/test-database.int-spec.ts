import { afterAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createTestDatabase, hashOf, migratedTemplate, TEST_DATABASE_ADMIN_URL, type TestDatabase } from './test-database.js';
import { uniqueName } from './test-names.js';

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const databaseUrl = (name: string): string => Object.assign(new URL(TEST_DATABASE_ADMIN_URL), { pathname: `/${name}` }).toString();
const databaseExists = async (name: string): Promise<boolean> =>
  (await query(TEST_DATABASE_ADMIN_URL, 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length === 1;

describe('createTestDatabase', () => {
  it('creates an empty database that drop() removes, even with a client still connected', async () => {
    const db = await createTestDatabase({ prefix: 'self' });
    expect(db.name).toMatch(/^t_self_[a-z0-9]{10}$/);
    const lingering = new pg.Client({ connectionString: db.url });
    await lingering.connect();
    lingering.on('error', () => undefined);
    expect(await query(db.url, 'SELECT current_database() AS name')).toEqual([{ name: db.name }]);

    await db.drop();

    expect(await databaseExists(db.name)).toBe(false);
    await lingering.end().catch(() => undefined);
  });

  it('keeps names within the PostgreSQL identifier limit, so drop() finds what it created', async () => {
    const db = await createTestDatabase({ prefix: 'a_very_long_prefix_'.repeat(5) });
    try {
      expect(db.name.length).toBeLessThanOrEqual(63);
      expect(await databaseExists(db.name)).toBe(true);
    } finally {
      await db.drop();
    }
    expect(await databaseExists(db.name)).toBe(false);
  });
});

describe('migratedTemplate', () => {
  const clones: TestDatabase[] = [];
  const templates: string[] = [];

  afterAll(async () => {
    await Promise.all(clones.map((db) => db.drop()));
    for (const template of templates) await query(TEST_DATABASE_ADMIN_URL, `DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
  });

  const widgetsMigration = () => {
    const calls = { count: 0 };
    const migrate = async (url: string): Promise<void> => {
      calls.count++;
      await query(url, 'CREATE TABLE widgets (id int PRIMARY KEY)');
      // Slow enough that the second caller really waits on the lock rather than arriving afterwards.
      await query(url, 'SELECT pg_sleep(0.2)');
      await query(url, 'INSERT INTO widgets VALUES (1), (2)');
    };
    return { calls, migrate };
  };

  it('runs migrate once for concurrent callers, then serves clones and reuses the template', async () => {
    const key = uniqueName(`selftest_${hashOf('CREATE TABLE widgets')}`);
    const { calls, migrate } = widgetsMigration();

    const names = await Promise.all([migratedTemplate(key, migrate), migratedTemplate(key, migrate)]);
    templates.push(names[0]);

    expect(names).toEqual([`tpl_${key}`, `tpl_${key}`]);
    expect(calls.count).toBe(1);
    const clone = await createTestDatabase({ template: names[0], prefix: 'clone' });
    clones.push(clone);
    expect(await query(clone.url, 'SELECT count(*)::int AS n FROM widgets')).toEqual([{ n: 2 }]);
    expect(await migratedTemplate(key, migrate)).toBe(names[0]);
    expect(calls.count).toBe(1);
  });

  it('rebuilds a half-built template that has no ready marker', async () => {
    const key = uniqueName('selftest_halfbuilt');
    const name = `tpl_${key}`;
    templates.push(name);
    await query(TEST_DATABASE_ADMIN_URL, `CREATE DATABASE "${name}"`);
    await query(databaseUrl(name), 'CREATE TABLE leftover (id int)');
    const { calls, migrate } = widgetsMigration();

    expect(await migratedTemplate(key, migrate)).toBe(name);

    expect(calls.count).toBe(1);
    const clone = await createTestDatabase({ template: name, prefix: 'clone' });
    clones.push(clone);
    expect(await query(clone.url, `SELECT to_regclass('leftover') IS NULL AS gone`)).toEqual([{ gone: true }]);
  });

  it('drops the template when migrate fails and lets the next caller build it', async () => {
    const key = uniqueName('selftest_failing');
    templates.push(`tpl_${key}`);

    await expect(migratedTemplate(key, async () => Promise.reject(new Error('bad migration')))).rejects.toThrow('bad migration');
    expect(await databaseExists(`tpl_${key}`)).toBe(false);

    const { calls, migrate } = widgetsMigration();
    expect(await migratedTemplate(key, migrate)).toBe(`tpl_${key}`);
    expect(calls.count).toBe(1);
  });
});

describe('hashOf', () => {
  it('gives short stable hashes that tell argument lists apart', () => {
    expect(hashOf('a', 'b')).toBe(hashOf('a', 'b'));
    expect(hashOf('a', 'b')).not.toBe(hashOf('ab'));
    expect(hashOf('x')).toMatch(/^[0-9a-f]{12}$/);
  });
});
