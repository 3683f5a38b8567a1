import { describe, expect, it } from '@jest/globals';
import { CompactRange } from './compact-range.js';
import { MerkleProofError } from './errors.js';
import { leafHash } from './hashing.js';
import { ReferenceMerkleTree } from './reference-tree.js';
import { rootFromSegment, segmentProofNodes } from './segment.js';
import type { PerfectNode } from './subtrees.js';

const MAX_SIZE = 24;
const leaves = Array.from({ length: MAX_SIZE }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
const reference = new ReferenceMerkleTree(leaves);
const stored = new Map<string, Buffer>();
const tree = CompactRange.empty();
for (const leaf of leaves) for (const node of tree.append(leaf)) stored.set(`${node.level}:${node.index}`, node.hash);
const hashesOf = (nodes: PerfectNode[]): Buffer[] => nodes.map((node) => stored.get(`${node.level}:${node.index}`)!);

describe(segmentProofNodes.name, () => {
  it('takes the frontier left of the segment and the compact range right of it', () => {
    expect(segmentProofNodes(5, 9, 13)).toEqual({
      left: [
        { level: 2, index: 0 },
        { level: 0, index: 4 },
      ],
      right: [
        { level: 0, index: 9 },
        { level: 1, index: 5 },
        { level: 0, index: 12 },
      ],
    });
  });

  it('rejects a segment outside the tree', () => {
    expect(() => segmentProofNodes(3, 2, 5)).toThrow(new MerkleProofError('segment [3, 2) is not within a tree of size 5'));
    expect(() => segmentProofNodes(3, 6, 5)).toThrow(MerkleProofError);
    expect(() => segmentProofNodes(-1, 2, 5)).toThrow(MerkleProofError);
  });
});

describe(rootFromSegment.name, () => {
  it(`reconstructs the root for every segment of every tree up to size ${MAX_SIZE}`, () => {
    const failures: string[] = [];
    for (let size = 0; size <= MAX_SIZE; size++) {
      for (let start = 0; start <= size; start++) {
        for (let end = start; end <= size; end++) {
          const { left, right } = segmentProofNodes(start, end, size);
          const root = rootFromSegment(start, leaves.slice(start, end), hashesOf(left), hashesOf(right), size);
          if (!root.equals(reference.root(size))) failures.push(`[${start}, ${end}) of ${size}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('gives another root when a leaf of the segment changes', () => {
    const { left, right } = segmentProofNodes(3, 7, 11);
    const segment = leaves.slice(3, 7);
    segment[2] = leafHash(Buffer.from('forged'));
    expect(rootFromSegment(3, segment, hashesOf(left), hashesOf(right), 11)).not.toEqual(reference.root(11));
  });

  it('rejects proof parts of the wrong length', () => {
    const { left, right } = segmentProofNodes(3, 7, 11);
    expect(() => rootFromSegment(3, leaves.slice(3, 7), hashesOf(left), hashesOf(right).slice(1), 11)).toThrow(
      new MerkleProofError('segment [3, 7) of a tree of size 11 needs 3 right-hand hashes, got 2'),
    );
    expect(() => rootFromSegment(3, leaves.slice(3, 7), hashesOf(left).slice(1), hashesOf(right), 11)).toThrow(MerkleProofError);
    expect(() => rootFromSegment(3, leaves.slice(3, 12), hashesOf(left), [], 11)).toThrow(MerkleProofError);
  });
});
