import type { DataSource } from 'typeorm';

/**
 * Runs `fn` while holding a session-level Postgres advisory lock named `lockName`, taken and released on one
 * dedicated connection so the unlock happens on the session that locked.
 */
export async function withAdvisoryLock<T>(dataSource: DataSource, lockName: string, fn: () => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [lockName]);
    try {
      return await fn();
    } finally {
      await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [lockName]);
    }
  } finally {
    await runner.release();
  }
}
