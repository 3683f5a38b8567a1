import type { DataSource, QueryRunner } from 'typeorm';

/**
 * Runs `fn` while holding the session-level advisory lock `pg_advisory_lock(hashtext(lockName))`. Lock, `fn`'s
 * work (through the runner it is given) and unlock share one connection: the unlock must happen on the locking
 * session, and with a one-connection pool a second connection for the work would never come.
 */
export async function withAdvisoryLock<T>(
  dataSource: DataSource,
  lockName: string,
  fn: (queryRunner: QueryRunner) => Promise<T>,
): Promise<T> {
  const queryRunner = dataSource.createQueryRunner('master');
  try {
    await queryRunner.connect();
    await queryRunner.query('SELECT pg_advisory_lock(hashtext($1))', [lockName]);
    try {
      return await fn(queryRunner);
    } finally {
      await queryRunner.query('SELECT pg_advisory_unlock(hashtext($1))', [lockName]);
    }
  } finally {
    await queryRunner.release();
  }
}
