import { CompactRange, leafHash, type PerfectNode } from '@llmops/platform-merkle';
import type { EntityManager } from 'typeorm';
import { AUDIT_ENTRY_COLUMNS, auditLeafData, auditRowFromSql, canonicalEntryOf, type AuditLogRow } from '../audit-logs/audit-entry.js';
import { AUDIT_SCHEMA } from '../migrations/1763800000000-CreateAuditLogs.js';
import type { TreeHeadSigner } from './tree-head-signer.js';

/** An entry about to be appended (its leaf index is assigned on append); sensitive details already hashed. */
export type NewAuditEntry = Omit<AuditLogRow, 'leafIndex'>;

/** The tree's state row, read under its row lock. */
export interface LockedTreeState {
  size: number;
  frontier: Buffer[];
  backfillSize: number;
  signedAtMs: number;
}

export interface StoredTreeHead {
  treeSize: number;
  rootHash: Buffer;
  timestamp: number;
  keyId: string;
  signature: Buffer;
}

const BACKFILL_CHUNK = 5_000;

/**
 * Appends entries to the Merkle log. Every call runs inside the caller's transaction after lock(), whose row lock
 * makes appends from several replicas take turns; the rows, the new tree nodes, the signed tree head and the new
 * frontier commit together with the caller's own writes (its processed-event marks), or none of them do.
 */
export class MerkleLogWriter {
  constructor(private readonly signer: TreeHeadSigner) {}

  async lock(manager: EntityManager): Promise<LockedTreeState> {
    const [row] = (await manager.query(
      `SELECT tree_size, frontier, backfill_size, signed_at_ms FROM ${AUDIT_SCHEMA}.merkle_tree_state FOR UPDATE`,
    )) as Array<{ tree_size: string; frontier: Buffer[]; backfill_size: string; signed_at_ms: string }>;
    if (!row) throw new Error('merkle_tree_state has no row: the AddMerkleLog migration did not run');
    return {
      size: Number(row.tree_size),
      frontier: row.frontier,
      backfillSize: Number(row.backfill_size),
      signedAtMs: Number(row.signed_at_ms),
    };
  }

  /** Stores `entries` as leaves size…size+n-1, in order, and signs the new tree head. */
  async append(manager: EntityManager, state: LockedTreeState, entries: NewAuditEntry[]): Promise<StoredTreeHead | undefined> {
    if (entries.length === 0) return undefined;
    if (state.size < state.backfillSize) throw new Error('the tree is still being backfilled');
    const column = <T>(pick: (entry: NewAuditEntry) => T): T[] => entries.map(pick);
    const inserted = (await manager.query(
      `INSERT INTO ${AUDIT_SCHEMA}.audit_logs
         (id, event_type, actor_id, actor_type, resource_type, resource_id, action, details, ip_address, user_agent,
          source, correlation_id, created_at, leaf_index)
       SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::text[], $4::varchar[], $5::varchar[], $6::varchar[],
                            $7::varchar[], $8::jsonb[], $9::inet[], $10::text[], $11::varchar[], $12::text[],
                            $13::timestamptz[], $14::bigint[])
       RETURNING ${AUDIT_ENTRY_COLUMNS}`,
      [
        column((e) => e.id),
        column((e) => e.eventType),
        column((e) => e.actorId),
        column((e) => e.actorType),
        column((e) => e.resourceType),
        column((e) => e.resourceId),
        column((e) => e.action),
        column((e) => JSON.stringify(e.details)),
        column((e) => e.ipAddress),
        column((e) => e.userAgent),
        column((e) => e.source),
        column((e) => e.correlationId),
        // Millisecond precision: the leaf commits to what the column returns, and a Date holds milliseconds.
        column((e) => e.createdAt.toISOString()),
        entries.map((_, offset) => state.size + offset),
      ],
    )) as Array<Record<string, unknown>>;
    const rows = inserted.map(auditRowFromSql).sort((a, b) => (a.leafIndex ?? 0) - (b.leafIndex ?? 0));
    return this.extend(manager, state, rows.map((row) => leafHash(auditLeafData(canonicalEntryOf(row)))));
  }

  /**
   * Hashes entries that were numbered by the migration but are not in the tree yet (rows from before the log was a
   * Merkle tree). Runs at start; a no-op once done.
   */
  async backfill(manager: EntityManager, state: LockedTreeState): Promise<number> {
    let added = 0;
    while (state.size < state.backfillSize) {
      const end = Math.min(state.backfillSize, state.size + BACKFILL_CHUNK);
      const rows = ((await manager.query(
        `SELECT ${AUDIT_ENTRY_COLUMNS} FROM ${AUDIT_SCHEMA}.audit_logs
          WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index`,
        [state.size, end],
      )) as Array<Record<string, unknown>>).map(auditRowFromSql);
      if (rows.length !== end - state.size || rows.some((row, offset) => row.leafIndex !== state.size + offset)) {
        throw new Error(`cannot backfill the Merkle tree: entries ${state.size}..${end - 1} are not all present once`);
      }
      await this.extend(manager, state, rows.map((row) => leafHash(auditLeafData(canonicalEntryOf(row)))));
      added += rows.length;
    }
    return added;
  }

  private async extend(manager: EntityManager, state: LockedTreeState, leafHashes: Buffer[]): Promise<StoredTreeHead> {
    const range = CompactRange.fromFrontier(state.size, state.frontier);
    const nodes: Array<PerfectNode & { hash: Buffer }> = [];
    for (const hash of leafHashes) nodes.push(...range.append(hash));
    await manager.query(
      `INSERT INTO ${AUDIT_SCHEMA}.merkle_nodes (level, index, hash)
       SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])`,
      [nodes.map((n) => n.level), nodes.map((n) => n.index), nodes.map((n) => n.hash)],
    );
    const timestamp = Math.max(Date.now(), state.signedAtMs);
    const head = { treeSize: range.size, rootHash: range.root(), timestamp };
    const signature = this.signer.sign(head);
    await manager.query(
      `INSERT INTO ${AUDIT_SCHEMA}.tree_heads (tree_size, root_hash, signed_at_ms, key_id, signature)
       VALUES ($1, $2, $3, $4, $5)`,
      [head.treeSize, head.rootHash, head.timestamp, this.signer.keyId, signature],
    );
    const frontier = range.frontier();
    await manager.query(
      `UPDATE ${AUDIT_SCHEMA}.merkle_tree_state SET tree_size = $1, frontier = $2::bytea[], signed_at_ms = $3`,
      [head.treeSize, frontier, head.timestamp],
    );
    Object.assign(state, { size: head.treeSize, frontier, signedAtMs: head.timestamp });
    return { ...head, keyId: this.signer.keyId, signature };
  }
}
