import { DataSource, type EntitySchema, type MixedList } from 'typeorm';
import { withAdvisoryLock } from './advisory-lock.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

/** Structural so this lib does not depend on the logging lib. */
export interface MinimalLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface DatabaseOptions {
  /** The owning service, e.g. `config-manager` (connection name, lock names). */
  service: string;
  /** The schema the service owns; its tables and its migrations table live there. */
  schema: string;
  /** PostgreSQL URL; unset starts an embedded PGlite in `dataDir`. */
  url?: string;
  /** Embedded only: where this service's PGlite keeps its data (`memory://` for a throwaway one). */
  dataDir?: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own entity list type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own migration list type
  migrations: MixedList<Function | string>;
  logger?: MinimalLogger;
  /** Server mode only; embedded mode always uses one connection. */
  poolSize?: number;
}

export interface Database {
  dataSource: DataSource;
  schema: string;
  embedded: boolean;
  url: string;
  /** `SELECT 1` with a timeout, for readiness checks. */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The service's DataSource on its own schema, migrated (under an advisory lock, never `synchronize`) before it is
 * returned. Without a URL the service gets its own PGlite, reached through one connection only: PGlite is a single
 * backend session, and a second pooled connection would share or block on the first one's transaction.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (!SCHEMA_NAME.test(options.schema)) throw new Error(`schema name "${options.schema}" is not a plain identifier`);
  let embedded: EmbeddedPostgres | undefined;
  if (!options.url) {
    if (!options.dataDir) throw new Error(`${options.service}: dataDir is required when no database URL is set`);
    embedded = await startEmbeddedPostgres(options.dataDir);
  }
  const url = options.url ?? embedded!.url;
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
    logging: false,
    extra: {
      max: embedded ? 1 : (options.poolSize ?? 10),
      options: `-c search_path=${options.schema},public`,
      connectionTimeoutMillis: 10_000,
    },
  });
  try {
    await dataSource.initialize();
    // pglite-socket ignores startup parameters; its one backend session keeps a SET for every later connection.
    if (embedded) await dataSource.query(`SET search_path TO ${options.schema}, public`);
    await migrate(dataSource, options, embedded !== undefined);
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
    ping: (timeoutMs = 2_000) => ping(dataSource, timeoutMs),
    close: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.close();
    },
  };
}

async function migrate(dataSource: DataSource, options: DatabaseOptions, embedded: boolean): Promise<void> {
  const run = async (): Promise<void> => {
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (applied.length > 0) {
      options.logger?.info({ schema: options.schema, migrations: applied.map((m) => m.name) }, 'migrations applied');
    }
  };
  // An embedded PGlite belongs to this one process, and its single connection could not serve both the lock
  // holder and the migrations; a shared server needs the lock so replicas starting together migrate once.
  if (embedded) await run();
  else await withAdvisoryLock(dataSource, `migrations:${options.schema}`, run);
}

async function ping(dataSource: DataSource, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`database did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([dataSource.query('SELECT 1'), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
