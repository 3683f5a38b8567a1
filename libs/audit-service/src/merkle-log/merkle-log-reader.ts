import {
  buildConsistencyProof,
  buildInclusionProof,
  segmentProofNodes,
  type PerfectNode,
} from '@llmops/platform-merkle';
import type { Database } from '@llmops/platform-persistence';
import { AUDIT_ENTRY_COLUMNS, auditRowFromSql, type AuditLogRow } from '../audit-logs/audit-entry.js';
import { AuditException, AuditExceptionCode } from '../audit-logs/exceptions/audit.exception.js';
import { AUDIT_SCHEMA } from '../migrations/1763800000000-CreateAuditLogs.js';
import type { StoredTreeHead } from './merkle-log-writer.js';

export interface PublishedSigningKey {
  keyId: string;
  algorithm: string;
  publicKeyPem: string;
  activatedAt: Date;
  retiredAt: Date | null;
}

export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  leafHash: Buffer;
  auditPath: Buffer[];
  entry: AuditLogRow;
  treeHead?: StoredTreeHead;
}

export interface SegmentHeader {
  treeHead: StoredTreeHead;
  start: number;
  end: number;
  leftProof: Buffer[];
  rightProof: Buffer[];
  /** Leaves of the segment whose rows retention removed. */
  prunedLeaves: Map<number, Buffer>;
}

const EXPORT_CHUNK = 2_000;
const CACHED_HEADS = 10_000;

/** Reads the Merkle log: signed tree heads, proofs from the stored subtree hashes, keys and verifiable segments. */
export class MerkleLogReader {
  private readonly headsBySize = new Map<number, StoredTreeHead>();

  constructor(private readonly database: Database) {}

  async latestTreeHead(): Promise<StoredTreeHead | undefined> {
    const [row] = await this.database.preparedQuery(
      'audit-latest-tree-head',
      `SELECT * FROM ${AUDIT_SCHEMA}.tree_heads ORDER BY tree_size DESC LIMIT 1`,
      [],
    );
    return row ? treeHeadOf(row) : undefined;
  }

  /** The newest head (treeSize 0) or the one issued at exactly treeSize. */
  async treeHead(treeSize = 0): Promise<StoredTreeHead> {
    this.checkSize(treeSize, 'tree_size');
    const head = treeSize === 0 ? await this.latestTreeHead() : await this.treeHeadAt(treeSize);
    if (!head) {
      throw new AuditException(
        AuditExceptionCode.NotFound,
        treeSize === 0 ? 'the log is empty: no tree head has been signed yet' : `no tree head was signed at tree size ${treeSize}`,
        'tree_size',
      );
    }
    return head;
  }

  /** The head signed at exactly `treeSize`, if any. Heads never change once signed, so they are cached. */
  private async treeHeadAt(treeSize: number): Promise<StoredTreeHead | undefined> {
    const cached = this.headsBySize.get(treeSize);
    if (cached) return cached;
    const rows = await this.database.preparedQuery('audit-tree-head-at', `SELECT * FROM ${AUDIT_SCHEMA}.tree_heads WHERE tree_size = $1`, [
      treeSize,
    ]);
    const head = rows[0] ? treeHeadOf(rows[0]) : undefined;
    if (head) {
      if (this.headsBySize.size >= CACHED_HEADS) this.headsBySize.delete(this.headsBySize.keys().next().value!);
      this.headsBySize.set(treeSize, head);
    }
    return head;
  }

  /** Three reads at most (entry with the log's size, subtree hashes, the head), the last two side by side. */
  async inclusionProof(entryId: string, treeSize = 0): Promise<InclusionProof> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(entryId)) {
      throw new AuditException(AuditExceptionCode.InvalidQuery, 'entry id must be a UUID', 'id');
    }
    this.checkSize(treeSize, 'tree_size');
    // Prepared: planning a lookup over every partition costs several times what running it does.
    const rows = await this.database.preparedQuery(
      'audit-proof-entry',
      `SELECT ${AUDIT_ENTRY_COLUMNS}, (SELECT max(tree_size) FROM ${AUDIT_SCHEMA}.tree_heads) AS latest_size
         FROM ${AUDIT_SCHEMA}.audit_logs WHERE id = $1 AND leaf_index IS NOT NULL LIMIT 1`,
      [entryId],
    );
    if (!rows[0]) throw new AuditException(AuditExceptionCode.NotFound, `audit entry ${entryId} does not exist`, 'id');
    const size = this.sizeWithin(treeSize, Number(rows[0].latest_size ?? 0));
    const entry = auditRowFromSql(rows[0]);
    const leafIndex = entry.leafIndex!;
    if (leafIndex >= size) {
      throw new AuditException(
        AuditExceptionCode.InvalidQuery,
        `entry ${entryId} is leaf ${leafIndex}, outside the tree of size ${size}; ask for a larger tree_size`,
        'tree_size',
      );
    }
    const leaf = { level: 0, index: leafIndex };
    let leafHash: Buffer | undefined;
    const [auditPath, treeHead] = await Promise.all([
      buildInclusionProof(leafIndex, size, async (nodes) => {
        const [hash, ...path] = await this.fetchNodes([leaf, ...nodes]);
        leafHash = hash;
        return path;
      }),
      this.treeHeadAt(size),
    ]);
    leafHash ??= (await this.fetchNodes([leaf]))[0]!;
    return { leafIndex, treeSize: size, leafHash, auditPath, entry, treeHead };
  }

  async consistencyProof(first: number, second: number): Promise<Buffer[]> {
    this.checkSize(first, 'first');
    this.checkSize(second, 'second');
    if (first > second) {
      throw new AuditException(AuditExceptionCode.InvalidQuery, `first (${first}) must not exceed second (${second})`, 'first');
    }
    if (second === 0) throw new AuditException(AuditExceptionCode.InvalidQuery, 'second must be at least 1', 'second');
    await this.resolveSize(second);
    return buildConsistencyProof(first, second, (nodes) => this.fetchNodes(nodes));
  }

  async signingKeys(): Promise<PublishedSigningKey[]> {
    const rows = (await this.database.dataSource.query(
      `SELECT key_id, algorithm, public_key_pem, activated_at, retired_at FROM ${AUDIT_SCHEMA}.signing_keys
        ORDER BY activated_at, key_id`,
    )) as Array<Record<string, unknown>>;
    return rows.map((row) => ({
      keyId: String(row.key_id),
      algorithm: String(row.algorithm),
      publicKeyPem: String(row.public_key_pem),
      activatedAt: new Date(row.activated_at as Date),
      retiredAt: row.retired_at ? new Date(row.retired_at as Date) : null,
    }));
  }

  /** The header of segment [start, end) of a signed tree, then its entries in leaf order. */
  async exportSegment(start: number, end: number, treeSize: number): Promise<{ header: SegmentHeader; entries: AsyncIterable<AuditLogRow> }> {
    this.checkSize(start, 'start');
    this.checkSize(end, 'end');
    const treeHead = await this.treeHead(treeSize);
    const last = end === 0 ? treeHead.treeSize : end;
    if (start > last || last > treeHead.treeSize) {
      throw new AuditException(
        AuditExceptionCode.InvalidQuery,
        `the segment [${start}, ${last}) is not inside the tree of size ${treeHead.treeSize}`,
        'end',
      );
    }
    const { left, right } = segmentProofNodes(start, last, treeHead.treeSize);
    const [leftProof, rightProof] = [await this.fetchNodes(left), await this.fetchNodes(right)];
    const pruned = (await this.database.dataSource.query(
      `SELECT p.leaf_index, n.hash FROM ${AUDIT_SCHEMA}.pruned_leaves p
         JOIN ${AUDIT_SCHEMA}.merkle_nodes n ON n.level = 0 AND n.index = p.leaf_index
        WHERE p.leaf_index >= $1 AND p.leaf_index < $2 ORDER BY p.leaf_index`,
      [start, last],
    )) as Array<{ leaf_index: string; hash: Buffer }>;
    const header: SegmentHeader = {
      treeHead,
      start,
      end: last,
      leftProof,
      rightProof,
      prunedLeaves: new Map(pruned.map((row) => [Number(row.leaf_index), row.hash])),
    };
    return { header, entries: this.entriesInRange(start, last) };
  }

  /** Entries with leaf index in [start, end), in order, read in chunks so a large segment streams. */
  async *entriesInRange(start: number, end: number): AsyncGenerator<AuditLogRow> {
    for (let from = start; from < end; from += EXPORT_CHUNK) {
      const rows = (await this.database.dataSource.query(
        `SELECT ${AUDIT_ENTRY_COLUMNS} FROM ${AUDIT_SCHEMA}.audit_logs
          WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index, id`,
        [from, Math.min(end, from + EXPORT_CHUNK)],
      )) as Array<Record<string, unknown>>;
      for (const row of rows) yield auditRowFromSql(row);
    }
  }

  /** Hashes of perfect subtrees, in the order asked, in one indexed read. */
  async fetchNodes(nodes: PerfectNode[]): Promise<Buffer[]> {
    if (nodes.length === 0) return [];
    const rows = await this.database.preparedQuery<{ level: number; index: string; hash: Buffer }>(
      'audit-merkle-nodes',
      `SELECT n.level, n.index, n.hash FROM ${AUDIT_SCHEMA}.merkle_nodes n
         JOIN unnest($1::smallint[], $2::bigint[]) AS wanted(level, index) USING (level, index)`,
      [nodes.map((node) => node.level), nodes.map((node) => node.index)],
    );
    const byKey = new Map(rows.map((row) => [`${row.level}:${row.index}`, row.hash]));
    return nodes.map((node) => {
      const hash = byKey.get(`${node.level}:${node.index}`);
      if (!hash) throw new Error(`merkle node level ${node.level} index ${node.index} is missing`);
      return hash;
    });
  }

  /** 0 → the newest signed size; otherwise the size itself, which must not exceed it. */
  private async resolveSize(treeSize: number): Promise<number> {
    this.checkSize(treeSize, 'tree_size');
    return this.sizeWithin(treeSize, (await this.latestTreeHead())?.treeSize ?? 0);
  }

  private sizeWithin(treeSize: number, latest: number): number {
    if (treeSize === 0) {
      if (latest === 0) throw new AuditException(AuditExceptionCode.NotFound, 'the log is empty: no tree head has been signed yet');
      return latest;
    }
    if (treeSize > latest) {
      throw new AuditException(AuditExceptionCode.InvalidQuery, `tree_size ${treeSize} exceeds the log's size ${latest}`, 'tree_size');
    }
    return treeSize;
  }

  private checkSize(value: number, field: string): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new AuditException(AuditExceptionCode.InvalidQuery, `${field} must be a non-negative integer`, field);
    }
  }
}

export function treeHeadOf(row: Record<string, unknown>): StoredTreeHead {
  return {
    treeSize: Number(row.tree_size),
    rootHash: row.root_hash as Buffer,
    timestamp: Number(row.signed_at_ms),
    keyId: String(row.key_id).trim(),
    signature: row.signature as Buffer,
  };
}
