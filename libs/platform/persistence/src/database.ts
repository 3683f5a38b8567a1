import { DataSource, type EntitySchema } from 'typeorm';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { runMigrations } from './migrations.js';
import type { MinimalLogger } from './minimal-logger.js';
import { assertSchemaName } from './schema-name.js';
import type { MigrationClass } from './sql-migration.js';
import { TypeOrmLogBridge } from './typeorm-log-bridge.js';

/** A decorated entity class; `never[]` accepts any constructor signature. */
export type EntityClass = abstract new (...args: never[]) => object;

export interface DatabaseOptions {
  /** The owning service, e.g. `config-manager`; becomes the connection's application_name. */
  service: string;
  /** The schema the service owns, e.g. `config_manager`; its tables and its migrations table live there. */
  schema: string;
  /** PostgreSQL URL (DATABASE_URL); unset starts an embedded PGlite in `dataDir`. */
  url?: string;
  /** Embedded only: where this service's PGlite keeps its data, e.g. `.data/config-manager/pg`; `memory://` for tests. */
  dataDir?: string;
  entities: Array<EntityClass | EntitySchema>;
  migrations: MigrationClass[];
  logger?: MinimalLogger;
  /** Server mode only (default 10); embedded mode always uses one connection. */
  poolSize?: number;
}

export interface Database {
  dataSource: DataSource;
  schema: string;
  embedded: boolean;
  /** Where the DataSource connects; for embedded mode, the loopback socket server. */
  url: string;
  /**
   * Runs `text` as the named prepared statement `name` on whichever pooled connection serves it, so each connection
   * parses and plans it once. For hot reads on partitioned tables, where planning costs more than executing; one
   * name must always carry the same text.
   */
  preparedQuery<T = Record<string, unknown>>(name: string, text: string, values: unknown[]): Promise<T[]>;
  /** `SELECT 1`, rejected if no answer within `timeoutMs` (default 2000); for readiness checks. */
  ping(timeoutMs?: number): Promise<void>;
  /** Destroys the DataSource, then stops the embedded server and PGlite if any. */
  close(): Promise<void>;
}

const DEFAULT_POOL_SIZE = 10;
// Also bounds the wait for a free pooled connection, so a stuck embedded session fails loudly instead of hanging.
const CONNECTION_TIMEOUT_MS = 10_000;

/**
 * The service's DataSource on its own schema, migrated before it is returned (never `synchronize`).
 * Without a URL the service gets its own PGlite with pgvector, reached through exactly ONE pooled connection:
 * PGlite is a single backend session that pglite-socket shares between all its clients, so a second connection would
 * share its session state (SET, advisory locks) and queue behind any open transaction. In embedded mode, code inside
 * a transaction must use the transaction's EntityManager: a call on the DataSource waits for the one connection and
 * fails after the connection timeout.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  assertSchemaName(options.schema);
  const searchPath = [options.schema, 'public'];
  let embedded: EmbeddedPostgres | undefined;
  if (!options.url) {
    if (!options.dataDir) throw new Error(`${options.service}: set a database URL, or a dataDir for embedded PGlite`);
    embedded = await startEmbeddedPostgres({ dataDir: options.dataDir, searchPath, applicationName: options.service });
    options.logger?.info({ service: options.service, dataDir: options.dataDir, url: embedded.url }, 'embedded PostgreSQL started');
  }
  const url = embedded?.url ?? options.url!;
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    schema: options.schema,
    applicationName: options.service,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    logger: new TypeOrmLogBridge(options.logger, options.service),
    poolErrorHandler: (error: unknown) => options.logger?.warn({ err: error, service: options.service }, 'database pool error'),
    extra: embedded
      ? // Keep the one connection open: replacing it after every idle spell only adds reconnect churn.
        { max: 1, idleTimeoutMillis: 0, connectionTimeoutMillis: CONNECTION_TIMEOUT_MS }
      : {
          max: options.poolSize ?? DEFAULT_POOL_SIZE,
          options: `-c search_path=${searchPath.join(',')}`,
          connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
        },
  });
  try {
    await dataSource.initialize();
    await runMigrations(dataSource, options.logger);
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    await embedded?.close().catch(() => undefined);
    throw error;
  }
  return {
    dataSource,
    schema: options.schema,
    embedded: embedded !== undefined,
    url,
    preparedQuery: async <T>(name: string, text: string, values: unknown[]): Promise<T[]> => {
      // TypeORM's query() cannot name a statement; its pg pool can.
      const pool = (dataSource.driver as unknown as { master: { query(config: object): Promise<{ rows: T[] }> } }).master;
      return (await pool.query({ name, text, values })).rows;
    },
    ping: (timeoutMs = 2_000) => ping(dataSource, timeoutMs),
    close: async () => {
      try {
        if (dataSource.isInitialized) await dataSource.destroy();
      } finally {
        await embedded?.close();
      }
    },
  };
}

async function ping(dataSource: DataSource, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`database did not answer SELECT 1 within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([dataSource.query('SELECT 1'), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
