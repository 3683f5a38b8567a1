import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase, type Database } from '@llmops/platform-persistence';
import { createTestDatabase, type TestDatabase } from '@llmops/platform-testing';
import { CONFIG_MANAGER_MIGRATIONS } from '../config-manager.host.js';
import { ConfigEntryEntity } from '../configs/config-entry.entity.js';
import { CONFIG_MANAGER_SCHEMA } from './1763800000000-CreateConfigEntries.js';

describe('config-manager migrations', () => {
  let testDatabase: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    testDatabase = await createTestDatabase({ prefix: 'cm_migrations' });
    database = await openDatabase({
      service: 'config-manager',
      schema: CONFIG_MANAGER_SCHEMA,
      url: testDatabase.url,
      entities: [ConfigEntryEntity],
      migrations: CONFIG_MANAGER_MIGRATIONS,
    });
  });

  afterAll(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  async function objects(): Promise<{ tables: string[]; functions: string[] }> {
    const tables: Array<{ name: string }> = await database.dataSource.query(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
      [CONFIG_MANAGER_SCHEMA],
    );
    const functions: Array<{ name: string }> = await database.dataSource.query(
      `SELECT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 ORDER BY 1`,
      [CONFIG_MANAGER_SCHEMA],
    );
    return { tables: tables.map((row) => row.name), functions: functions.map((row) => row.name) };
  }

  it('undoes every migration down to an empty schema and applies them again to the same objects', async () => {
    const migrated = await objects();
    expect(migrated.tables).toEqual(expect.arrayContaining(['config_entries', 'revision_counter', 'namespace_settings', 'outbox']));
    expect(migrated.functions).toContain('start_key_write');

    for (const _ of CONFIG_MANAGER_MIGRATIONS) await database.dataSource.undoLastMigration({ transaction: 'each' });
    expect(await objects()).toEqual({ tables: ['migrations'], functions: [] });

    await database.dataSource.runMigrations({ transaction: 'each' });
    expect(await objects()).toEqual(migrated);
    const [started]: Array<{ taken_revision: string; latest_entry: unknown }> = await database.dataSource.query(
      `SELECT * FROM ${CONFIG_MANAGER_SCHEMA}.start_key_write('acme', 'key', 'base', ARRAY['acme'])`,
    );
    expect(started).toMatchObject({ taken_revision: '1', latest_entry: null });
  });
});
