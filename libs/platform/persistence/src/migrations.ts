import { MigrationExecutor, type DataSource } from 'typeorm';
import { withAdvisoryLock } from './advisory-lock.js';
import type { MinimalLogger } from './minimal-logger.js';
import { assertSchemaName } from './schema-name.js';

/**
 * Creates the DataSource's schema and applies its pending migrations, each in its own transaction, under the
 * advisory lock `migrations:<schema>` so that replicas starting together migrate once. Applied migrations are
 * recorded in `<schema>.migrations`. Returns the names of the migrations it applied.
 */
export async function runMigrations(dataSource: DataSource, logger?: MinimalLogger): Promise<string[]> {
  const schema = 'schema' in dataSource.options ? dataSource.options.schema : undefined;
  if (!schema) throw new Error('runMigrations needs a DataSource configured with the schema its service owns');
  assertSchemaName(schema);
  return withAdvisoryLock(dataSource, `migrations:${schema}`, async (queryRunner) => {
    await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    // What dataSource.runMigrations() does, but on the lock holder's connection rather than a second one.
    const executor = new MigrationExecutor(dataSource, queryRunner);
    executor.transaction = 'each';
    const applied = (await executor.executePendingMigrations()).map((migration) => migration.name);
    if (applied.length > 0) logger?.info({ schema, migrations: applied }, 'database migrations applied');
    return applied;
  });
}
