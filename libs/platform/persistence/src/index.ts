export { withAdvisoryLock } from './advisory-lock.js';
export { openDatabase, type Database, type DatabaseOptions, type MinimalLogger } from './database.js';
export { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
export { sqlMigration, type SqlMigrationClass } from './sql-migration.js';
