import { createHash } from 'node:crypto';
import pg from 'pg';
import { uniqueName } from './test-names.js';

export const TEST_DATABASE_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

// PostgreSQL silently truncates longer identifiers, which would make drop() miss the database it created.
const MAX_IDENTIFIER_LENGTH = 63;
const RANDOM_SUFFIX_LENGTH = 11; // `_` + 10 hex characters from uniqueName
const TEMPLATE_READY_MARKER = 'llmops-template-ready';

/**
 * A database of its own for one test file, `t_<prefix>_<random>`, empty or cloned from `template`.
 * `drop()` disconnects whoever is still connected and drops it.
 */
export async function createTestDatabase(options: { template?: string; prefix?: string } = {}): Promise<TestDatabase> {
  const prefix = `t_${options.prefix ?? 'test'}`.slice(0, MAX_IDENTIFIER_LENGTH - RANDOM_SUFFIX_LENGTH);
  const name = uniqueName(prefix);
  const template = options.template ? ` TEMPLATE ${quote(options.template)}` : '';
  await withAdminClient((admin) => admin.query(`CREATE DATABASE ${quote(name)}${template}`));
  return { name, url: databaseUrl(name), drop: () => withAdminClient((admin) => dropDatabase(admin, name)) };
}

/**
 * The name of a template database `tpl_<key>` holding what `migrate(url)` built, for createTestDatabase({ template }).
 * Built once even when parallel jest workers or processes ask together (advisory lock on the admin database), and
 * reused while it carries the ready marker; a half-built one (no marker) is dropped and rebuilt. Put a hash of the
 * migrations in `key` (see hashOf) so that changed migrations get a new template.
 */
export async function migratedTemplate(key: string, migrate: (url: string) => Promise<void>): Promise<string> {
  const name = `tpl_${key.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
  if (name.length > MAX_IDENTIFIER_LENGTH) throw new Error(`template key "${key}" is too long for a database name`);
  return withAdminClient(async (admin) => {
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [`test-template:${name}`]);
    try {
      const { rows } = await admin.query<{ ready: boolean }>(
        `SELECT shobj_description(oid, 'pg_database') IS NOT DISTINCT FROM $2 AS ready FROM pg_database WHERE datname = $1`,
        [name, TEMPLATE_READY_MARKER],
      );
      if (rows[0]?.ready) return name;
      if (rows.length > 0) await dropDatabase(admin, name);
      await admin.query(`CREATE DATABASE ${quote(name)}`);
      try {
        await migrate(databaseUrl(name));
        // Cloning fails while anyone is connected to the template, e.g. a pool `migrate` left open.
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
        await admin.query(`COMMENT ON DATABASE ${quote(name)} IS '${TEMPLATE_READY_MARKER}'`);
      } catch (error) {
        await dropDatabase(admin, name).catch(() => undefined);
        throw error;
      }
      return name;
    } finally {
      await admin.query('SELECT pg_advisory_unlock(hashtext($1))', [`test-template:${name}`]);
    }
  });
}

/** A short stable hash of strings (e.g. migration SQL) for template keys. */
export function hashOf(...parts: string[]): string {
  const hash = createHash('sha256');
  // The separator keeps ('ab') and ('a', 'b') apart.
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 12);
}

function databaseUrl(database: string): string {
  const url = new URL(TEST_DATABASE_ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  // FORCE (PostgreSQL 13+) disconnects leftover sessions atomically, so a pool cannot reconnect in between.
  await admin.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`);
}

async function withAdminClient<T>(fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_ADMIN_URL, application_name: 'platform-testing' });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}
