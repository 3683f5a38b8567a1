import { createPublicKey, type KeyObject } from 'node:crypto';
import { CompactRange, leafHash, verifyTreeHead, type PerfectNode } from '@llmops/platform-merkle';
import type { Database } from '@llmops/platform-persistence';
import { AUDIT_ENTRY_COLUMNS, auditLeafData, auditRowFromSql, canonicalEntryOf, type AuditLogRow } from '../audit-logs/audit-entry.js';
import { AuditException, AuditExceptionCode } from '../audit-logs/exceptions/audit.exception.js';
import { AUDIT_SCHEMA } from '../migrations/1763800000000-CreateAuditLogs.js';
import { treeHeadOf } from './merkle-log-reader.js';

export type IntegrityViolationKind =
  | 'modified'
  | 'deleted'
  | 'inserted'
  | 'reordered'
  | 'leaf_missing'
  | 'node_mismatch'
  | 'tree_head_mismatch'
  | 'bad_signature';

export interface IntegrityViolation {
  /** Leaf index concerned, -1 for a row that has none. */
  index: number;
  kind: IntegrityViolationKind;
  detail: string;
  entryId?: string;
}

export interface IntegrityReport {
  valid: boolean;
  treeSize: number;
  rootHash: Buffer;
  treeHeadsChecked: number;
  entriesPruned: number;
  violations: IntegrityViolation[];
}

const CHUNK = 5_000;
const MAX_REPORTED = 1_000;

/**
 * Rebuilds the log from what PostgreSQL holds and checks three things, so that an operator with write access to
 * the database cannot change history unnoticed: each row still hashes to its stored leaf (rows modified, deleted,
 * inserted or moved are reported with their index); the stored subtree hashes that proofs are built from match the
 * leaves; and the tree over the stored leaves has, at every signed size, the root that was signed, under a
 * published key. Rows that retention removed are expected to be absent; their leaves stay in the tree.
 */
export class IntegrityVerifier {
  constructor(private readonly database: Database) {}

  async verify(requestedSize = 0): Promise<IntegrityReport> {
    const query = this.database.dataSource.query.bind(this.database.dataSource) as (sql: string, params?: unknown[]) => Promise<Array<Record<string, unknown>>>;
    const heads = (await query(`SELECT * FROM ${AUDIT_SCHEMA}.tree_heads ORDER BY tree_size`)).map(treeHeadOf);
    const latestSize = heads.at(-1)?.treeSize ?? 0;
    if (!Number.isSafeInteger(requestedSize) || requestedSize < 0 || requestedSize > latestSize) {
      throw new AuditException(
        AuditExceptionCode.InvalidQuery,
        `tree_size must be between 0 and the log's size ${latestSize}`,
        'tree_size',
      );
    }
    const size = requestedSize || latestSize;
    const violations: IntegrityViolation[] = [];
    const report = (violation: IntegrityViolation): void => {
      if (violations.length < MAX_REPORTED) violations.push(violation);
    };

    const keys = await this.publishedKeys();
    const signedHeads = heads.filter((head) => head.treeSize <= size);
    for (const head of signedHeads) {
      const key = keys.get(head.keyId);
      if (!key || !verifyTreeHead(head, head.signature, key)) {
        report({
          index: head.treeSize,
          kind: 'bad_signature',
          detail: key ? `the tree head of size ${head.treeSize} has an invalid signature` : `the tree head of size ${head.treeSize} names unknown key ${head.keyId}`,
        });
      }
    }

    const pruned = new Set(
      (await query(`SELECT leaf_index FROM ${AUDIT_SCHEMA}.pruned_leaves WHERE leaf_index < $1`, [size])).map((row) => Number(row.leaf_index)),
    );
    const storedTree = CompactRange.empty();
    const rowTree = CompactRange.empty();
    const mismatched: Array<{ index: number; row: AuditLogRow; hash: Buffer }> = [];
    let nextHead = 0;
    let lastGoodSize = 0;
    let headMismatches = 0;
    for (let from = 0; from < size; from += CHUNK) {
      const to = Math.min(size, from + CHUNK);
      const rowsByIndex = new Map<number, AuditLogRow[]>();
      for (const raw of await query(
        `SELECT ${AUDIT_ENTRY_COLUMNS} FROM ${AUDIT_SCHEMA}.audit_logs WHERE leaf_index >= $1 AND leaf_index < $2`,
        [from, to],
      )) {
        const row = auditRowFromSql(raw);
        rowsByIndex.set(row.leafIndex!, [...(rowsByIndex.get(row.leafIndex!) ?? []), row]);
      }
      const storedLeaves = new Map(
        (await query(`SELECT index, hash FROM ${AUDIT_SCHEMA}.merkle_nodes WHERE level = 0 AND index >= $1 AND index < $2`, [from, to])).map(
          (row) => [Number(row.index), row.hash as Buffer],
        ),
      );
      const completedNodes: Array<PerfectNode & { hash: Buffer }> = [];
      for (let index = from; index < to; index++) {
        const stored = storedLeaves.get(index);
        const rows = rowsByIndex.get(index) ?? [];
        const hashed = rows.map((row) => ({ row, hash: leafHash(auditLeafData(canonicalEntryOf(row))) }));
        const genuine = hashed.find((candidate) => stored?.equals(candidate.hash)) ?? hashed[0];
        for (const extra of hashed.filter((candidate) => candidate !== genuine)) {
          report({ index, kind: 'inserted', entryId: extra.row.id, detail: `entry ${extra.row.id} claims leaf ${index}, which belongs to another entry` });
        }
        if (!genuine && !pruned.has(index)) {
          report({ index, kind: 'deleted', detail: `the entry of leaf ${index} is missing` });
        } else if (genuine && stored && !stored.equals(genuine.hash)) {
          mismatched.push({ index, ...genuine });
        }
        if (!stored) report({ index, kind: 'leaf_missing', detail: `the stored hash of leaf ${index} is missing` });
        const leaf = stored ?? genuine?.hash ?? Buffer.alloc(32);
        completedNodes.push(...storedTree.append(leaf).filter((node) => node.level > 0));
        rowTree.append(genuine?.hash ?? leaf);
        while (nextHead < signedHeads.length && signedHeads[nextHead]!.treeSize === storedTree.size) {
          const head = signedHeads[nextHead++]!;
          if (storedTree.root().equals(Buffer.from(head.rootHash))) {
            lastGoodSize = head.treeSize;
          } else if (headMismatches++ === 0) {
            report({
              index: lastGoodSize,
              kind: 'tree_head_mismatch',
              detail: `the stored leaves no longer produce the root signed at size ${head.treeSize}: leaves ${lastGoodSize}..${head.treeSize - 1} were changed`,
            });
          }
        }
      }
      await this.compareNodes(completedNodes, report);
    }
    await this.classifyMismatches(mismatched, report);
    for (const row of await query(
      `SELECT id, leaf_index FROM ${AUDIT_SCHEMA}.audit_logs WHERE leaf_index IS NULL OR leaf_index < 0 OR leaf_index >= $1`,
      [latestSize],
    )) {
      const index = row.leaf_index === null ? -1 : Number(row.leaf_index);
      report({ index, kind: 'inserted', entryId: String(row.id), detail: `entry ${String(row.id)} is not part of the signed log` });
    }
    if (headMismatches > 1) {
      const first = violations.find((violation) => violation.kind === 'tree_head_mismatch');
      if (first) first.detail += `; ${headMismatches} signed tree heads in all no longer match`;
    }
    violations.sort((a, b) => a.index - b.index);
    return {
      valid: violations.length === 0,
      treeSize: size,
      rootHash: rowTree.root(),
      treeHeadsChecked: signedHeads.length,
      entriesPruned: pruned.size,
      violations,
    };
  }

  private async publishedKeys(): Promise<Map<string, KeyObject>> {
    const rows = (await this.database.dataSource.query(`SELECT key_id, public_key_pem FROM ${AUDIT_SCHEMA}.signing_keys`)) as Array<{
      key_id: string;
      public_key_pem: string;
    }>;
    return new Map(rows.map((row) => [row.key_id.trim(), createPublicKey(row.public_key_pem)]));
  }

  /** The interior hashes proofs are served from must be the ones the leaves produce. */
  private async compareNodes(expected: Array<PerfectNode & { hash: Buffer }>, report: (violation: IntegrityViolation) => void): Promise<void> {
    if (expected.length === 0) return;
    const stored = (await this.database.dataSource.query(
      `SELECT n.level, n.index, n.hash FROM ${AUDIT_SCHEMA}.merkle_nodes n
         JOIN unnest($1::smallint[], $2::bigint[]) AS wanted(level, index) USING (level, index)`,
      [expected.map((node) => node.level), expected.map((node) => node.index)],
    )) as Array<{ level: number; index: string; hash: Buffer }>;
    const byKey = new Map(stored.map((row) => [`${row.level}:${row.index}`, row.hash]));
    for (const node of expected) {
      const hash = byKey.get(`${node.level}:${node.index}`);
      if (!hash || !hash.equals(node.hash)) {
        const first = node.index * 2 ** node.level;
        report({
          index: first,
          kind: 'node_mismatch',
          detail: `the stored hash of the subtree over leaves ${first}..${first + 2 ** node.level - 1} is ${hash ? 'wrong' : 'missing'}`,
        });
      }
    }
  }

  /** A row that no longer hashes to its leaf was either edited in place or moved from the leaf it hashes to. */
  private async classifyMismatches(
    mismatched: Array<{ index: number; row: AuditLogRow; hash: Buffer }>,
    report: (violation: IntegrityViolation) => void,
  ): Promise<void> {
    if (mismatched.length === 0) return;
    const found = (await this.database.dataSource.query(
      `SELECT index, hash FROM ${AUDIT_SCHEMA}.merkle_nodes WHERE level = 0 AND hash = ANY($1::bytea[])`,
      [mismatched.map((item) => item.hash)],
    )) as Array<{ index: string; hash: Buffer }>;
    const indexOfHash = new Map(found.map((row) => [row.hash.toString('hex'), Number(row.index)]));
    for (const { index, row, hash } of mismatched) {
      const original = indexOfHash.get(hash.toString('hex'));
      if (original !== undefined && original !== index) {
        report({ index, kind: 'reordered', entryId: row.id, detail: `leaf ${index} holds the entry of leaf ${original}` });
      } else {
        report({ index, kind: 'modified', entryId: row.id, detail: `entry ${row.id} at leaf ${index} no longer matches its leaf hash` });
      }
    }
  }
}
