import type { DataSource } from 'typeorm';
import { AUDIT_SCHEMA } from '../migrations/1763800000000-CreateAuditLogs.js';

/**
 * Creates the monthly partitions of audit_logs from this month to `monthsAhead` months ahead, so inserts never land
 * in the default partition during normal operation. Idempotent; run at start and daily.
 */
export async function ensureMonthlyPartitions(dataSource: DataSource, now = new Date(), monthsAhead = 2): Promise<string[]> {
  const created: string[] = [];
  for (let offset = 0; offset <= monthsAhead; offset++) {
    const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
    const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    const name = `audit_logs_${start.getUTCFullYear()}_${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
    const exists: unknown[] = await dataSource.query(
      `SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2`,
      [AUDIT_SCHEMA, name],
    );
    if (exists.length > 0) continue;
    // Rows already in the default partition for this range must move, or the ATTACH would fail.
    await dataSource.transaction(async (manager) => {
      await manager.query(`CREATE TABLE ${AUDIT_SCHEMA}.${name} (LIKE ${AUDIT_SCHEMA}.audit_logs INCLUDING DEFAULTS)`);
      await manager.query(
        `WITH moved AS (DELETE FROM ${AUDIT_SCHEMA}.audit_logs_default WHERE created_at >= $1 AND created_at < $2 RETURNING *)
         INSERT INTO ${AUDIT_SCHEMA}.${name} SELECT * FROM moved`,
        [start.toISOString(), end.toISOString()],
      );
      await manager.query(
        `ALTER TABLE ${AUDIT_SCHEMA}.audit_logs ATTACH PARTITION ${AUDIT_SCHEMA}.${name}
         FOR VALUES FROM ('${start.toISOString()}') TO ('${end.toISOString()}')`,
      );
    });
    created.push(name);
  }
  return created;
}
