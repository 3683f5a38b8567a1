import type { Database } from '@llmops/platform-persistence';
import { AUDIT_SCHEMA } from '../migrations/1763800000000-CreateAuditLogs.js';
import { AUDIT_ENTRY_COLUMNS, auditRowFromSql, type AuditLogRow } from './audit-entry.js';
import type { SensitiveDetailHasher } from './sensitive-detail-hasher.js';
import { AuditException, AuditExceptionCode } from './exceptions/audit.exception.js';

export interface AuditLogFilter {
  from?: Date;
  to?: Date;
  actorId?: string;
  resourceType?: string;
  resourceId?: string;
  action?: string;
  eventType?: string;
  /** Exact matches on top-level detail fields; sensitive fields are compared by their HMAC. */
  details?: Record<string, string>;
  cursor?: string;
  limit?: number;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Audit entries newest first, with a keyset cursor (created_at, id) that stays stable while entries arrive. */
export class AuditLogQuery {
  constructor(
    private readonly database: Database,
    private readonly hasher: SensitiveDetailHasher,
  ) {}

  async page(filter: AuditLogFilter): Promise<{ entries: AuditLogRow[]; nextCursor?: string }> {
    const limit = filter.limit && filter.limit > 0 ? filter.limit : DEFAULT_PAGE_SIZE;
    if (limit > MAX_PAGE_SIZE) {
      throw new AuditException(AuditExceptionCode.InvalidQuery, `limit must be at most ${MAX_PAGE_SIZE}`, 'limit');
    }
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown): void => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.from) add('created_at >= ?', filter.from.toISOString());
    if (filter.to) add('created_at < ?', filter.to.toISOString());
    if (filter.actorId) add('actor_id = ?', filter.actorId);
    if (filter.resourceType) add('resource_type = ?', filter.resourceType);
    if (filter.resourceId) add('resource_id = ?', filter.resourceId);
    if (filter.action) add('action = ?', filter.action);
    if (filter.eventType) add('event_type = ?', filter.eventType);
    for (const [field, value] of Object.entries(filter.details ?? {})) {
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(field)) {
        throw new AuditException(AuditExceptionCode.InvalidQuery, `detail field ${JSON.stringify(field)} is not a field name`, 'details');
      }
      // Containment matches the string, and a number or boolean written the same way.
      const stored = this.hasher.isSensitive(field) ? this.hasher.hashValue(value) : value;
      const alternatives = [{ [field]: stored }, ...scalarReadingsOf(stored).map((scalar) => ({ [field]: scalar }))];
      add(`details @> ANY(?::jsonb[])`, alternatives.map((candidate) => JSON.stringify(candidate)));
    }
    if (filter.cursor) {
      const { createdAt, id } = decodeCursor(filter.cursor);
      params.push(createdAt, id);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit + 1);
    const rows: Array<Record<string, unknown>> = await this.database.dataSource.query(
      `SELECT ${AUDIT_ENTRY_COLUMNS}
         FROM ${AUDIT_SCHEMA}.audit_logs
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, id DESC
        LIMIT $${params.length}`,
      params,
    );
    const entries = rows.slice(0, limit).map(auditRowFromSql);
    const last = entries.at(-1);
    return { entries, nextCursor: rows.length > limit && last ? encodeCursor(last) : undefined };
  }
}

/** `42` may be stored as the number 42, `true` as the boolean. */
function scalarReadingsOf(value: string): unknown[] {
  if (value === 'true' || value === 'false') return [value === 'true'];
  const number = Number(value);
  return value.trim() !== '' && Number.isFinite(number) && String(number) === value ? [number] : [];
}

export function encodeCursor(row: Pick<AuditLogRow, 'createdAt' | 'id'>): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  if (!createdAt || !id || Number.isNaN(Date.parse(createdAt)) || !uuid.test(id)) {
    throw new AuditException(AuditExceptionCode.InvalidQuery, 'cursor is not one this service issued', 'cursor');
  }
  return { createdAt, id };
}
