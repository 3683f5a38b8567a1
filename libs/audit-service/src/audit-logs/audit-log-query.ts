import type { Database } from '@llmops/platform-persistence';
import { AUDIT_SCHEMA } from '../migrations/1763800000000-CreateAuditLogs.js';
import { AuditException, AuditExceptionCode } from './exceptions/audit.exception.js';

export interface AuditLogRow {
  id: string;
  eventType: string;
  actorId: string | null;
  actorType: string;
  resourceType: string | null;
  resourceId: string | null;
  action: string;
  details: Record<string, unknown>;
  ipAddress: string | null;
  userAgent: string | null;
  source: string;
  correlationId: string | null;
  createdAt: Date;
}

export interface AuditLogFilter {
  from?: Date;
  to?: Date;
  actorId?: string;
  resourceType?: string;
  resourceId?: string;
  action?: string;
  eventType?: string;
  cursor?: string;
  limit?: number;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Audit entries newest first, with a keyset cursor (created_at, id) that stays stable while entries arrive. */
export class AuditLogQuery {
  constructor(private readonly database: Database) {}

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
    if (filter.cursor) {
      const { createdAt, id } = decodeCursor(filter.cursor);
      params.push(createdAt, id);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit + 1);
    const rows: Array<Record<string, unknown>> = await this.database.dataSource.query(
      `SELECT id, event_type, actor_id, actor_type, resource_type, resource_id, action, details, host(ip_address) AS ip_address,
              user_agent, source, correlation_id, created_at
         FROM ${AUDIT_SCHEMA}.audit_logs
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, id DESC
        LIMIT $${params.length}`,
      params,
    );
    const entries = rows.slice(0, limit).map(toRow);
    const last = entries.at(-1);
    return { entries, nextCursor: rows.length > limit && last ? encodeCursor(last) : undefined };
  }
}

function toRow(row: Record<string, unknown>): AuditLogRow {
  return {
    id: String(row.id),
    eventType: String(row.event_type),
    actorId: (row.actor_id as string | null) ?? null,
    actorType: String(row.actor_type),
    resourceType: (row.resource_type as string | null) ?? null,
    resourceId: (row.resource_id as string | null) ?? null,
    action: String(row.action),
    details: (typeof row.details === 'string' ? JSON.parse(row.details) : row.details) as Record<string, unknown>,
    ipAddress: (row.ip_address as string | null) ?? null,
    userAgent: (row.user_agent as string | null) ?? null,
    source: String(row.source),
    correlationId: (row.correlation_id as string | null) ?? null,
    createdAt: new Date(row.created_at as string | Date),
  };
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
