import { createTestDatabase } from '@llmops/platform-testing';
import { DataSource } from 'typeorm';
import { outboxMigrationSql } from '../outbox-migration.js';

export interface TestDataSource {
  dataSource: DataSource;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/**
 * A DataSource on a throw-away database of its own, so suites run in parallel. The pool size matters to the outbox:
 * `poolSize: 1` is the embedded PGlite mode, where the relay must never need a second connection. `outboxSchema`
 * migrates an outbox (and processed-events table) into that schema.
 */
export async function createTestDataSource(options: { poolSize?: number; outboxSchema?: string } = {}): Promise<TestDataSource> {
  const database = await createTestDatabase({ prefix: 'msg' });
  const dataSource = new DataSource({ type: 'postgres', url: database.url, extra: { max: options.poolSize ?? 10 } });
  try {
    await dataSource.initialize();
    if (options.outboxSchema) for (const statement of outboxMigrationSql(options.outboxSchema).up) await dataSource.query(statement);
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await database.drop();
    throw error;
  }
  return {
    dataSource,
    drop: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await database.drop();
    },
  };
}
