import { createHash } from 'node:crypto';
import pg from 'pg';
import { uniqueName } from './test-names.js';

export const TEST_DATABASE_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

const TEMPLATE_READY = 'llmops-template-ready';

/** A database for one test file, empty or cloned from a migrated template; `drop()` removes it. */
export async function createTestDatabase(options: { template?: string; prefix?: string } = {}): Promise<TestDatabase> {
  const name = uniqueName(`t_${options.prefix ?? 'test'}`);
  await withAdmin(async (client) => {
    await client.query(`CREATE DATABASE ${quote(name)}${options.template ? ` TEMPLATE ${quote(options.template)}` : ''}`);
  });
  return {
    name,
    url: urlFor(name),
    drop: () =>
      withAdmin(async (client) => {
        await client.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [name]);
        await client.query(`DROP DATABASE IF EXISTS ${quote(name)}`);
      }),
  };
}

/**
 * A template database named `tpl_<key>` holding the result of `migrate(url)`, built once even when several jest
 * workers ask at the same time (advisory lock on the admin database). Include a hash of the migrations in `key`
 * so that changed migrations get a fresh template; a half-built one (no ready marker) is rebuilt.
 */
export async function migratedTemplate(key: string, migrate: (url: string) => Promise<void>): Promise<string> {
  const name = `tpl_${key.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
  const admin = new pg.Client({ connectionString: TEST_DATABASE_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
    const rows = await admin.query<{ ready: boolean }>(
      `SELECT shobj_description(oid, 'pg_database') = $2 AS ready FROM pg_database WHERE datname = $1`,
      [name, TEMPLATE_READY],
    );
    if (rows.rows[0]?.ready) return name;
    if (rows.rows.length > 0) await admin.query(`DROP DATABASE ${quote(name)}`);
    await admin.query(`CREATE DATABASE ${quote(name)}`);
    await migrate(urlFor(name));
    // Connections left by `migrate` would make CREATE DATABASE … TEMPLATE fail.
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [name]);
    await admin.query(`COMMENT ON DATABASE ${quote(name)} IS '${TEMPLATE_READY}'`);
    return name;
  } finally {
    await admin.query('SELECT pg_advisory_unlock(hashtext($1))', [name]).catch(() => undefined);
    await admin.end();
  }
}

/** A short stable hash of strings (e.g. migration sources) for template keys. */
export function hashOf(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 12);
}

function urlFor(database: string): string {
  const url = new URL(TEST_DATABASE_ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
