import { canonicalJson } from '@llmops/platform-merkle';

/** One audit entry as stored: seed 000's audit_logs columns plus its source, correlation id and leaf index. */
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
  /** Position in the Merkle tree; null only for a row that reached the table behind the service's back. */
  leafIndex: number | null;
}

/**
 * The columns every reader selects (and every insert returns), so the entry hashed at append time and the entry
 * re-hashed by verification are read the same way: the inet and jsonb values as PostgreSQL normalizes them.
 */
export const AUDIT_ENTRY_COLUMNS = `id, event_type, actor_id, actor_type, resource_type, resource_id, action, details,
  host(ip_address) AS ip_address, user_agent, source, correlation_id, created_at, leaf_index`;

export function auditRowFromSql(row: Record<string, unknown>): AuditLogRow {
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
    leafIndex: row.leaf_index === null || row.leaf_index === undefined ? null : Number(row.leaf_index),
  };
}

/** The fields of an entry that its leaf commits to, in the snake_case of the API and the export format. */
export interface CanonicalAuditEntry {
  id: string;
  event_type: string;
  actor_id: string | null;
  actor_type: string;
  resource_type: string | null;
  resource_id: string | null;
  action: string;
  details: Record<string, unknown>;
  ip_address: string | null;
  user_agent: string | null;
  source: string;
  correlation_id: string | null;
  /** ISO 8601 with milliseconds, UTC. */
  created_at: string;
}

export function canonicalEntryOf(row: AuditLogRow): CanonicalAuditEntry {
  return {
    id: row.id,
    event_type: row.eventType,
    actor_id: row.actorId,
    actor_type: row.actorType,
    resource_type: row.resourceType,
    resource_id: row.resourceId,
    action: row.action,
    details: row.details,
    ip_address: row.ipAddress,
    user_agent: row.userAgent,
    source: row.source,
    correlation_id: row.correlationId,
    created_at: row.createdAt.toISOString(),
  };
}

/**
 * The leaf's input bytes: the RFC 8785 canonical JSON of the entry's fields, tagged with a format version. The leaf
 * index is not part of it (as in RFC 9162), so moving a row to another index changes the tree at both places.
 */
export function auditLeafData(entry: CanonicalAuditEntry): Buffer {
  const { id, event_type, actor_id, actor_type, resource_type, resource_id, action, details, ip_address, user_agent, source, correlation_id, created_at } = entry;
  return Buffer.from(
    canonicalJson({
      v: 1,
      id,
      event_type,
      actor_id,
      actor_type,
      resource_type,
      resource_id,
      action,
      details,
      ip_address,
      user_agent,
      source,
      correlation_id,
      created_at,
    }),
    'utf8',
  );
}
