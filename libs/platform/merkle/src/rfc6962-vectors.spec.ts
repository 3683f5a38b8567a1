import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CompactRange } from './compact-range.js';
import { leafHash } from './hashing.js';
import { buildConsistencyProof, buildInclusionProof, verifyConsistency, verifyInclusion, type FetchNodes } from './proofs.js';
import { ReferenceMerkleTree } from './reference-tree.js';

interface Vectors {
  leaf_inputs_hex: string[];
  roots_by_size: Record<string, string>;
  inclusion: Array<{ leaf_index: number; tree_size: number; audit_path: string[] }>;
  consistency: Array<{ first: number; second: number; proof: string[] }>;
}

// A copy of the project's shared reference data (RFC 6962 §2.1 / Certificate Transparency vectors), kept in the
// repository so the suite runs wherever the repository is cloned.
const vectors = JSON.parse(readFileSync(fileURLToPath(new URL('../testdata/rfc6962-vectors.json', import.meta.url)), 'utf8')) as Vectors;

const leaves = vectors.leaf_inputs_hex.map((hex) => leafHash(Buffer.from(hex, 'hex')));
const reference = new ReferenceMerkleTree(leaves);
const rootOf = (size: number): Buffer => Buffer.from(vectors.roots_by_size[String(size)], 'hex');
const hex = (hashes: Uint8Array[]): string[] => hashes.map((hash) => Buffer.from(hash).toString('hex'));

/** A node store as the log server keeps one: every node CompactRange.append reports, keyed by position. */
function storedTree(): FetchNodes {
  const range = CompactRange.empty();
  const nodes = new Map<string, Buffer>();
  for (const leaf of leaves) for (const node of range.append(leaf)) nodes.set(`${node.level}:${node.index}`, node.hash);
  return async (wanted) => wanted.map((node) => nodes.get(`${node.level}:${node.index}`)!);
}

describe('RFC 6962 published vectors', () => {
  it('covers every size from 0 to the number of leaves', () => {
    expect(Object.keys(vectors.roots_by_size).map(Number)).toEqual(leaves.map((_, i) => i).concat(leaves.length));
  });

  describe(ReferenceMerkleTree.name, () => {
    it.each(Object.keys(vectors.roots_by_size).map(Number))('computes the root of size %i', (size) => {
      expect(reference.root(size).toString('hex')).toBe(vectors.roots_by_size[String(size)]);
    });

    it.each(vectors.inclusion)('gives the inclusion proof of leaf $leaf_index in size $tree_size', (vector) => {
      expect(hex(reference.inclusionProof(vector.leaf_index, vector.tree_size))).toEqual(vector.audit_path);
    });

    it.each(vectors.consistency)('gives the consistency proof from $first to $second', (vector) => {
      expect(hex(reference.consistencyProof(vector.first, vector.second))).toEqual(vector.proof);
    });
  });

  describe(CompactRange.name, () => {
    it('has the published root after each append', () => {
      const range = CompactRange.empty();
      const roots = [range.root().toString('hex')];
      for (const leaf of leaves) {
        range.append(leaf);
        roots.push(range.root().toString('hex'));
      }
      expect(roots).toEqual(roots.map((_, size) => vectors.roots_by_size[String(size)]));
    });
  });

  describe(buildInclusionProof.name, () => {
    it.each(vectors.inclusion)('builds the inclusion proof of leaf $leaf_index in size $tree_size from stored nodes', async (vector) => {
      expect(hex(await buildInclusionProof(vector.leaf_index, vector.tree_size, storedTree()))).toEqual(vector.audit_path);
    });
  });

  describe(buildConsistencyProof.name, () => {
    it.each(vectors.consistency)('builds the consistency proof from $first to $second from stored nodes', async (vector) => {
      expect(hex(await buildConsistencyProof(vector.first, vector.second, storedTree()))).toEqual(vector.proof);
    });
  });

  describe(verifyInclusion.name, () => {
    it.each(vectors.inclusion)('accepts the inclusion proof of leaf $leaf_index in size $tree_size', (vector) => {
      const proof = vector.audit_path.map((h) => Buffer.from(h, 'hex'));
      expect(verifyInclusion(leaves[vector.leaf_index], vector.leaf_index, vector.tree_size, proof, rootOf(vector.tree_size))).toBe(true);
    });
  });

  describe(verifyConsistency.name, () => {
    it.each(vectors.consistency)('accepts the consistency proof from $first to $second', (vector) => {
      const proof = vector.proof.map((h) => Buffer.from(h, 'hex'));
      expect(verifyConsistency(vector.first, vector.second, rootOf(vector.first), rootOf(vector.second), proof)).toBe(true);
    });
  });
});
