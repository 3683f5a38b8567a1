export { withAdvisoryLock } from './advisory-lock.js';
export { openDatabase, type Database, type DatabaseOptions, type EntityClass } from './database.js';
export { startEmbeddedPostgres, type EmbeddedPostgres, type EmbeddedPostgresOptions } from './embedded-postgres.js';
export { runMigrations } from './migrations.js';
export type { MinimalLogger } from './minimal-logger.js';
export { sqlMigration, type MigrationClass } from './sql-migration.js';
