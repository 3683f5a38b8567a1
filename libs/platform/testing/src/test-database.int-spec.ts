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

describe('test databases', () => {
  const created: TestDatabase[] = [];
  const templates: string[] = [];

  afterAll(async () => {
    await Promise.all(created.map((db) => db.drop()));
    for (const template of templates) await query(TEST_DATABASE_ADMIN_URL, `DROP DATABASE IF EXISTS "${template}"`);
  });

  it('creates an empty database that drop() removes, even with a client still connected', async () => {
    const db = await createTestDatabase({ prefix: 'self' });
    expect(db.name).toMatch(/^t_self_[a-z0-9]+$/);
    const lingering = new pg.Client({ connectionString: db.url });
    await lingering.connect();
    lingering.on('error', () => undefined);
    await db.drop();
    const rows = await query(TEST_DATABASE_ADMIN_URL, 'SELECT 1 FROM pg_database WHERE datname = $1', [db.name]);
    expect(rows).toHaveLength(0);
  });

  it('builds a template once under concurrency and clones it', async () => {
    const key = uniqueName(`selftest_${hashOf('v1')}`);
    let migrations = 0;
    const migrate = async (url: string): Promise<void> => {
      migrations++;
      await query(url, 'CREATE TABLE widgets (id int PRIMARY KEY)');
      await query(url, 'INSERT INTO widgets VALUES (1), (2)');
    };
    const names = await Promise.all([migratedTemplate(key, migrate), migratedTemplate(key, migrate)]);
    templates.push(names[0]);
    expect(names[0]).toBe(names[1]);
    expect(migrations).toBe(1);

    const clone = await createTestDatabase({ template: names[0], prefix: 'clone' });
    created.push(clone);
    const rows = await query<{ n: number }>(clone.url, 'SELECT count(*)::int AS n FROM widgets');
    expect(rows[0]?.n).toBe(2);
    expect(await migratedTemplate(key, migrate)).toBe(names[0]);
    expect(migrations).toBe(1);
  });

  it('gives stable short hashes', () => {
    expect(hashOf('a', 'b')).toBe(hashOf('a', 'b'));
    expect(hashOf('a', 'b')).not.toBe(hashOf('ab'));
    expect(hashOf('x')).toHaveLength(12);
  });
});
