import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from '@llmops/platform-persistence';
import type { Logger } from '@llmops/platform-observability';
import { AUDIT_SCHEMA } from '../migrations/1763800000000-CreateAuditLogs.js';
import { AUDIT_ENTRY_COLUMNS, auditRowFromSql, canonicalEntryOf } from './audit-entry.js';
import type { AuditLogRecorder } from './audit-log-recorder.js';

export const PARTITION_DROPPED = 'audit.partition_dropped';
const PARTITION_NAME = /^audit_logs_(\d{4})_(\d{2})$/;
const ARCHIVE_CHUNK = 5_000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface RetentionOptions {
  retentionDays: number;
  /** Partitions are written here as JSON lines (the export format) before they are dropped. */
  archiveDir?: string;
}

/**
 * Drops whole monthly partitions once every entry in them is older than the retention period (7 years by default).
 * The drop is itself an entry of the log, appended in the same transaction that records the dropped leaves as
 * pruned: their hashes stay in the tree, so every signed tree head and proof stays verifiable, and verification
 * expects exactly those rows to be absent.
 */
export class AuditRetention {
  constructor(
    private readonly database: Database,
    private readonly recorder: AuditLogRecorder,
    private readonly logger: Logger,
    private readonly options: RetentionOptions,
  ) {}

  async run(now = new Date()): Promise<string[]> {
    const cutoff = now.getTime() - this.options.retentionDays * DAY_MS;
    const partitions = (await this.database.dataSource.query(
      `SELECT c.relname AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class parent ON parent.oid = i.inhparent
         JOIN pg_namespace n ON n.oid = parent.relnamespace
        WHERE n.nspname = $1 AND parent.relname = 'audit_logs'
        ORDER BY c.relname`,
      [AUDIT_SCHEMA],
    )) as Array<{ name: string }>;
    const dropped: string[] = [];
    for (const { name } of partitions) {
      const match = PARTITION_NAME.exec(name);
      if (!match) continue;
      const from = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
      const to = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1));
      if (to.getTime() > cutoff) continue;
      await this.drop(name, from, to);
      dropped.push(name);
    }
    return dropped;
  }

  private async drop(name: string, from: Date, to: Date): Promise<void> {
    const table = `${AUDIT_SCHEMA}.${name}`;
    const [stats] = (await this.database.dataSource.query(
      `SELECT count(*) AS entries, min(leaf_index) AS first, max(leaf_index) AS last FROM ${table}`,
    )) as Array<{ entries: string; first: string | null; last: string | null }>;
    const archive = this.options.archiveDir ? await this.archive(name, table) : undefined;
    await this.recorder.appendOwn(
      [
        {
          id: randomUUID(),
          eventType: PARTITION_DROPPED,
          actorId: null,
          actorType: 'system',
          resourceType: 'audit_partitions',
          resourceId: name,
          action: 'partition_dropped',
          details: {
            partition: name,
            from: from.toISOString(),
            to: to.toISOString(),
            entries: Number(stats?.entries ?? 0),
            first_leaf_index: stats?.first === null || stats?.first === undefined ? null : Number(stats.first),
            last_leaf_index: stats?.last === null || stats?.last === undefined ? null : Number(stats.last),
            retention_days: this.options.retentionDays,
            archive: archive?.path ?? null,
            archive_sha256: archive?.sha256 ?? null,
          },
          ipAddress: null,
          userAgent: null,
          source: 'audit-service',
          correlationId: null,
          createdAt: new Date(),
        },
      ],
      async (manager) => {
        await manager.query(
          `INSERT INTO ${AUDIT_SCHEMA}.pruned_leaves (leaf_index, partition_name)
           SELECT leaf_index, $1 FROM ${table} WHERE leaf_index IS NOT NULL ON CONFLICT DO NOTHING`,
          [name],
        );
        await manager.query(`DROP TABLE ${table}`);
      },
    );
    this.logger.info({ partition: name, entries: Number(stats?.entries ?? 0), archive: archive?.path }, 'audit partition past retention dropped');
  }

  /** Writes the partition's entries as JSON lines in leaf order, durably, before anything is dropped. */
  private async archive(name: string, table: string): Promise<{ path: string; sha256: string }> {
    const directory = this.options.archiveDir!;
    await mkdir(directory, { recursive: true });
    const path = join(directory, `${name}.jsonl`);
    const partial = `${path}.partial`;
    const file = await open(partial, 'w', 0o600);
    const digest = createHash('sha256');
    try {
      let after = -1;
      for (;;) {
        const rows = (await this.database.dataSource.query(
          `SELECT ${AUDIT_ENTRY_COLUMNS} FROM ${table} WHERE leaf_index > $1 ORDER BY leaf_index LIMIT ${ARCHIVE_CHUNK}`,
          [after],
        )) as Array<Record<string, unknown>>;
        if (rows.length === 0) break;
        const lines = rows
          .map(auditRowFromSql)
          .map((row) => JSON.stringify({ leaf_index: row.leafIndex, ...canonicalEntryOf(row) }) + '\n')
          .join('');
        digest.update(lines);
        await file.write(lines);
        after = Number(rows.at(-1)!.leaf_index);
      }
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(partial, path);
    return { path, sha256: digest.digest('hex') };
  }
}
