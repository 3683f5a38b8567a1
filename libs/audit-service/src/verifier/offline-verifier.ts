import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  leafHash,
  MerkleProofError,
  rootFromSegment,
  verifyConsistency,
  verifyInclusion,
  verifyTreeHead,
  keyIdOf,
} from '@llmops/platform-merkle';
import { auditLeafData, type CanonicalAuditEntry } from '../audit-logs/audit-entry.js';

/** A signed tree head as the REST API writes it: hashes and signature in base64, as Certificate Transparency's API. */
export interface TreeHeadDocument {
  tree_size: number;
  root_hash: string;
  timestamp: number;
  key_id: string;
  signature: string;
}

export interface InclusionProofDocument {
  leaf_index: number;
  tree_size: number;
  leaf_hash: string;
  audit_path: string[];
  entry: CanonicalAuditEntry;
  tree_head?: TreeHeadDocument | null;
}

export interface ConsistencyProofDocument {
  first: number;
  second: number;
  proof: string[];
}

export interface SegmentHeaderDocument {
  type: 'header';
  tree_head: TreeHeadDocument;
  start: number;
  end: number;
  left_proof: string[];
  right_proof: string[];
  pruned_leaves: Record<string, string>;
}

export interface VerificationResult {
  ok: boolean;
  /** What was checked and held. */
  checks: string[];
  /** What failed, one line each. */
  problems: string[];
}

/** Public keys by key id, from PEM text (one or more keys) or the API's `{"keys":[{"public_key_pem"}]}` document. */
export function parsePublicKeys(text: string): Map<string, KeyObject> {
  const pems: string[] = [];
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const document = JSON.parse(trimmed) as { keys?: Array<{ public_key_pem?: string }> };
    for (const key of document.keys ?? []) if (key.public_key_pem) pems.push(key.public_key_pem);
  } else {
    pems.push(...(trimmed.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? []));
  }
  if (pems.length === 0) throw new Error('no public key found: give a PEM public key or the output of GET /api/v1/audit_logs/keys');
  return new Map(pems.map((pem) => createPublicKey(pem)).map((key) => [keyIdOf(key), key]));
}

/** Checks a tree head's signature under the key it names. */
export function checkTreeHead(head: TreeHeadDocument, keys: Map<string, KeyObject>, result: VerificationResult, label = 'tree head'): boolean {
  const key = keys.get(head.key_id);
  if (!key) return fail(result, `${label} of size ${head.tree_size} is signed by key ${head.key_id}, which is not among the given keys`);
  const valid = verifyTreeHead(
    { treeSize: head.tree_size, rootHash: fromBase64(head.root_hash), timestamp: head.timestamp },
    fromBase64(head.signature),
    key,
  );
  if (!valid) return fail(result, `${label} of size ${head.tree_size} has an invalid signature`);
  result.checks.push(`${label} of size ${head.tree_size} is signed by key ${head.key_id}`);
  return true;
}

/** An entry belongs to the signed tree: its fields hash to the leaf, and the audit path leads to the signed root. */
export function verifyInclusionDocument(
  document: InclusionProofDocument,
  keys: Map<string, KeyObject>,
  treeHead: TreeHeadDocument | undefined = document.tree_head ?? undefined,
): VerificationResult {
  const result = emptyResult();
  if (!treeHead) return finish(fail(result, 'no tree head to verify against: give one (--sth) or a proof for a signed tree size'), result);
  if (treeHead.tree_size !== document.tree_size) {
    fail(result, `the proof is for tree size ${document.tree_size}, the tree head for ${treeHead.tree_size}`);
    return finish(false, result);
  }
  checkTreeHead(treeHead, keys, result);
  const computed = leafHash(auditLeafData(document.entry));
  if (!computed.equals(fromBase64(document.leaf_hash))) {
    fail(result, `entry ${document.entry.id} does not hash to the leaf hash in the proof: the entry was altered`);
  } else {
    result.checks.push(`entry ${document.entry.id} hashes to leaf ${document.leaf_index}`);
  }
  const included = safely(() =>
    verifyInclusion(computed, document.leaf_index, document.tree_size, document.audit_path.map(fromBase64), fromBase64(treeHead.root_hash)),
  );
  if (included) result.checks.push(`the audit path leads from leaf ${document.leaf_index} to the signed root`);
  else fail(result, `the audit path does not lead from entry ${document.entry.id} to the signed root of size ${treeHead.tree_size}`);
  return finish(result.problems.length === 0, result);
}

/** The tree of the second head extends the tree of the first: nothing in the first was changed or removed. */
export function verifyConsistencyDocument(
  document: ConsistencyProofDocument,
  first: TreeHeadDocument,
  second: TreeHeadDocument,
  keys: Map<string, KeyObject>,
): VerificationResult {
  const result = emptyResult();
  if (first.tree_size !== document.first || second.tree_size !== document.second) {
    fail(result, `the proof is for sizes ${document.first} → ${document.second}, the tree heads for ${first.tree_size} → ${second.tree_size}`);
    return finish(false, result);
  }
  checkTreeHead(first, keys, result, 'first tree head');
  checkTreeHead(second, keys, result, 'second tree head');
  const consistent = safely(() =>
    verifyConsistency(document.first, document.second, fromBase64(first.root_hash), fromBase64(second.root_hash), document.proof.map(fromBase64)),
  );
  if (consistent) result.checks.push(`the tree of size ${document.second} extends the tree of size ${document.first}`);
  else fail(result, `the consistency proof does not connect the roots of sizes ${document.first} and ${document.second}`);
  return finish(result.problems.length === 0, result);
}

/**
 * An exported segment (the NDJSON of GET /api/v1/audit_logs/export): every entry hashes to its leaf, the leaves sit
 * at consecutive indices, and together with the range proof they rebuild the signed root.
 */
export async function verifySegment(lines: AsyncIterable<string>, keys: Map<string, KeyObject>): Promise<VerificationResult> {
  const result = emptyResult();
  let header: SegmentHeaderDocument | undefined;
  const leaves: Buffer[] = [];
  let expected = 0;
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    const item = JSON.parse(line) as SegmentHeaderDocument | (CanonicalAuditEntry & { type: 'entry'; leaf_index: number });
    if (item.type === 'header') {
      if (header) return finish(fail(result, `line ${lineNumber}: a second header`), result);
      header = item;
      expected = header.start;
      continue;
    }
    if (!header) return finish(fail(result, `line ${lineNumber}: an entry before the header`), result);
    while (expected < item.leaf_index && header.pruned_leaves[String(expected)]) {
      leaves.push(fromBase64(header.pruned_leaves[String(expected)]!));
      expected++;
    }
    if (item.leaf_index !== expected) {
      fail(result, `line ${lineNumber}: entry ${item.id} is leaf ${item.leaf_index}, expected leaf ${expected}`);
      return finish(false, result);
    }
    leaves.push(leafHash(auditLeafData(item)));
    expected++;
  }
  if (!header) return finish(fail(result, 'the segment has no header line'), result);
  while (expected < header.end && header.pruned_leaves[String(expected)]) {
    leaves.push(fromBase64(header.pruned_leaves[String(expected)]!));
    expected++;
  }
  if (expected !== header.end) {
    return finish(fail(result, `the segment ends at leaf ${expected}, its header says ${header.end}`), result);
  }
  checkTreeHead(header.tree_head, keys, result);
  const root = safely(() =>
    rootFromSegment(header.start, leaves, header.left_proof.map(fromBase64), header.right_proof.map(fromBase64), header.tree_head.tree_size),
  );
  if (root && root.equals(fromBase64(header.tree_head.root_hash))) {
    result.checks.push(`entries ${header.start}..${header.end - 1} rebuild the signed root of size ${header.tree_head.tree_size}`);
  } else {
    fail(result, `entries ${header.start}..${header.end - 1} do not rebuild the signed root of size ${header.tree_head.tree_size}: the segment was altered`);
  }
  return finish(result.problems.length === 0, result);
}

function fromBase64(value: string): Buffer {
  return Buffer.from(value, 'base64');
}

/** Malformed proofs (wrong length, index outside the tree) are a failed verification, not a crash. */
function safely<T>(check: () => T): T | false {
  try {
    return check();
  } catch (error) {
    if (error instanceof MerkleProofError) return false;
    throw error;
  }
}

function emptyResult(): VerificationResult {
  return { ok: false, checks: [], problems: [] };
}

function fail(result: VerificationResult, problem: string): false {
  result.problems.push(problem);
  return false;
}

function finish(ok: boolean, result: VerificationResult): VerificationResult {
  result.ok = ok && result.problems.length === 0;
  return result;
}
