import type { JsonObject } from '@bufbuild/protobuf';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import type {
  AuditLogEntry,
  GetComplianceReportResponse,
  GetConsistencyProofResponse,
  GetInclusionProofResponse,
  LogSegmentHeader,
  SignedTreeHead,
  SigningKey,
  VerifyIntegrityResponse,
} from '@llmops/contracts';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';

/**
 * An audit entry as the REST API shows it. Apart from `leaf_index`, these are exactly the fields the entry's Merkle
 * leaf commits to (nullable columns null, `created_at` ISO 8601 with milliseconds), so an offline verifier can
 * recompute the leaf from this JSON.
 */
export interface AuditLogView {
  id: string;
  /** null for a row that reached the table behind the service's back and so has no leaf. */
  leaf_index: number | null;
  event_type: string;
  actor_id: string | null;
  actor_type: string;
  resource_type: string | null;
  resource_id: string | null;
  action: string;
  details: JsonObject;
  ip_address: string | null;
  user_agent: string | null;
  source: string;
  correlation_id: string | null;
  created_at: string;
}

/** Certificate Transparency's JSON tree head: hashes and signatures in standard base64. */
export interface TreeHeadView {
  tree_size: number;
  root_hash: string;
  timestamp: number;
  key_id: string;
  signature: string;
}

export interface InclusionProofView {
  leaf_index: number;
  tree_size: number;
  leaf_hash: string;
  audit_path: string[];
  entry: AuditLogView;
  tree_head: TreeHeadView | null;
}

export interface ConsistencyProofView {
  first: number;
  second: number;
  proof: string[];
}

export interface SigningKeyView {
  key_id: string;
  algorithm: string;
  public_key_pem: string;
  activated_at: string;
  retired_at: string | null;
}

export interface IntegrityReportView {
  valid: boolean;
  tree_size: number;
  root_hash: string;
  tree_heads_checked: number;
  entries_pruned: number;
  violations: Array<{ index: number; kind: string; detail: string; entry_id: string | null }>;
}

export interface SegmentHeaderLine {
  type: 'header';
  tree_head: TreeHeadView;
  start: number;
  end: number;
  left_proof: string[];
  right_proof: string[];
  pruned_leaves: Record<string, string>;
}

export type SegmentEntryLine = { type: 'entry' } & AuditLogView;

export interface ComplianceCountView {
  key: string;
  count: number;
}

export interface ComplianceReportView {
  from: string;
  to: string;
  total_events: number;
  sections: Array<{ name: string; total: number; by_event_type: ComplianceCountView[]; top_actors: ComplianceCountView[] }>;
  tree_head: TreeHeadView | null;
}

export function auditLogViewOf(entry: AuditLogEntry): AuditLogView {
  return {
    id: entry.id,
    leaf_index: entry.sequence < 0n ? null : Number(entry.sequence),
    event_type: entry.eventType,
    actor_id: entry.actorId || null,
    actor_type: entry.actorType,
    resource_type: entry.resourceType || null,
    resource_id: entry.resourceId || null,
    action: entry.action,
    details: entry.details ?? {},
    ip_address: entry.ipAddress || null,
    user_agent: entry.userAgent || null,
    source: entry.source,
    correlation_id: entry.correlationId || null,
    created_at: isoOf(entry.createdAt) ?? '',
  };
}

export function treeHeadViewOf(head: SignedTreeHead): TreeHeadView {
  return {
    tree_size: Number(head.treeSize),
    root_hash: base64Of(head.rootHash),
    timestamp: Number(head.timestamp),
    key_id: head.keyId,
    signature: base64Of(head.signature),
  };
}

export function inclusionProofViewOf(response: GetInclusionProofResponse): InclusionProofView {
  return {
    leaf_index: Number(response.leafIndex),
    tree_size: Number(response.treeSize),
    leaf_hash: base64Of(response.leafHash),
    audit_path: response.auditPath.map(base64Of),
    entry: auditLogViewOf(required(response.entry)),
    tree_head: response.treeHead ? treeHeadViewOf(response.treeHead) : null,
  };
}

export function consistencyProofViewOf(response: GetConsistencyProofResponse): ConsistencyProofView {
  return { first: Number(response.first), second: Number(response.second), proof: response.proof.map(base64Of) };
}

export function signingKeyViewOf(key: SigningKey): SigningKeyView {
  return {
    key_id: key.keyId,
    algorithm: key.algorithm,
    public_key_pem: key.publicKeyPem,
    activated_at: isoOf(key.activatedAt) ?? '',
    retired_at: isoOf(key.retiredAt),
  };
}

export function integrityReportViewOf(response: VerifyIntegrityResponse): IntegrityReportView {
  return {
    valid: response.valid,
    tree_size: Number(response.treeSize),
    root_hash: base64Of(response.rootHash),
    tree_heads_checked: Number(response.treeHeadsChecked),
    entries_pruned: Number(response.entriesPruned),
    violations: response.violations.map((violation) => ({
      index: Number(violation.index),
      kind: violation.kind,
      detail: violation.detail,
      entry_id: violation.entryId || null,
    })),
  };
}

export function segmentHeaderLineOf(header: LogSegmentHeader): SegmentHeaderLine {
  return {
    type: 'header',
    tree_head: treeHeadViewOf(required(header.treeHead)),
    start: Number(header.start),
    end: Number(header.end),
    left_proof: header.leftProof.map(base64Of),
    right_proof: header.rightProof.map(base64Of),
    pruned_leaves: Object.fromEntries(
      Object.entries(header.prunedLeaves)
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([index, hash]) => [index, base64Of(hash)]),
    ),
  };
}

export function segmentEntryLineOf(entry: AuditLogEntry): SegmentEntryLine {
  return { type: 'entry', ...auditLogViewOf(entry) };
}

export function complianceReportViewOf(response: GetComplianceReportResponse): ComplianceReportView {
  const counts = (items: ReadonlyArray<{ key: string; count: bigint }>): ComplianceCountView[] =>
    items.map(({ key, count }) => ({ key, count: Number(count) }));
  return {
    from: isoOf(response.from) ?? '',
    to: isoOf(response.to) ?? '',
    total_events: Number(response.totalEvents),
    sections: response.sections.map((section) => ({
      name: section.name,
      total: Number(section.total),
      by_event_type: counts(section.byEventType),
      top_actors: counts(section.topActors),
    })),
    tree_head: response.treeHead ? treeHeadViewOf(response.treeHead) : null,
  };
}

/** Standard base64 with padding, as Certificate Transparency's JSON API encodes hashes and signatures. */
export function base64Of(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Truncated to the millisecond, as a Date read from a microsecond column is, so the leaf's created_at is matched. */
function isoOf(timestamp: Timestamp | undefined): string | null {
  return timestamp ? new Date(Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1_000_000)).toISOString() : null;
}

/** A field the contract always fills; its absence is the upstream's bug, not the client's. */
function required<T>(value: T | undefined): T {
  if (value === undefined) throw new GatewayException(GatewayErrorCode.Internal, 'internal error');
  return value;
}
