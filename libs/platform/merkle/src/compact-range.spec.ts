import { describe, expect, it } from '@jest/globals';
import { CompactRange } from './compact-range.js';
import { MerkleProofError } from './errors.js';
import { EMPTY_ROOT, leafHash } from './hashing.js';
import { ReferenceMerkleTree } from './reference-tree.js';
import { rangeNodes } from './subtrees.js';

const MAX_SIZE = 300;
const leaves = Array.from({ length: MAX_SIZE }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
const reference = new ReferenceMerkleTree(leaves);

describe(CompactRange.name, () => {
  it('starts empty with the empty root', () => {
    const range = CompactRange.empty();
    expect(range.size).toBe(0);
    expect(range.frontier()).toEqual([]);
    expect(range.root()).toEqual(EMPTY_ROOT);
  });

  it(`has the reference root and a frontier that restores it at every size up to ${MAX_SIZE}`, () => {
    const failures: string[] = [];
    const range = CompactRange.empty();
    for (let size = 1; size <= MAX_SIZE; size++) {
      range.append(leaves[size - 1]);
      const root = reference.root(size);
      if (range.size !== size || !range.root().equals(root)) failures.push(`root at ${size}`);
      const frontier = range.frontier();
      if (frontier.length !== rangeNodes({ start: 0, end: size }).length) failures.push(`frontier length at ${size}`);
      const restored = CompactRange.fromFrontier(size, frontier);
      if (!restored.root().equals(root)) failures.push(`restored root at ${size}`);
      if (size < MAX_SIZE) {
        restored.append(leaves[size]);
        if (!restored.root().equals(reference.root(size + 1))) failures.push(`append after restore at ${size}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('reports each perfect node exactly once, leaf first, with its subtree hash', () => {
    const size = 64 + 32 + 5;
    const range = CompactRange.empty();
    const reported: string[] = [];
    for (let i = 0; i < size; i++) {
      const completed = range.append(leaves[i]);
      expect(completed[0]).toEqual({ level: 0, index: i, hash: leaves[i] });
      completed.forEach((node, j) => expect(node.level).toBe(j));
      for (const node of completed) {
        const width = 2 ** node.level;
        const subtree = new ReferenceMerkleTree(leaves.slice(node.index * width, (node.index + 1) * width));
        expect(node.hash).toEqual(subtree.root());
        reported.push(`${node.level}:${node.index}`);
      }
    }
    const expected: string[] = [];
    for (let level = 0; 2 ** level <= size; level++) {
      for (let index = 0; (index + 1) * 2 ** level <= size; index++) expected.push(`${level}:${index}`);
    }
    expect(reported.sort()).toEqual(expected.sort());
  });

  it('does not share its hashes with callers', () => {
    const range = CompactRange.empty();
    const leaf = Buffer.from(leaves[0]);
    range.append(leaf)[0].hash.fill(0);
    leaf.fill(0);
    range.frontier()[0].fill(0);
    expect(range.root()).toEqual(leaves[0]);
  });

  it('merges an aligned right-hand range node by node', () => {
    const left = CompactRange.empty();
    for (const leaf of leaves.slice(0, 8)) left.append(leaf);
    left.appendNode({ level: 2, index: 2 }, new ReferenceMerkleTree(leaves.slice(8, 12)).root());
    expect(left.size).toBe(12);
    left.appendNode({ level: 0, index: 12 }, leaves[12]);
    expect(left.root()).toEqual(reference.root(13));
    expect(left.frontier()).toEqual([reference.root(8), new ReferenceMerkleTree(leaves.slice(8, 12)).root(), leaves[12]]);
  });

  it('rejects a node that does not start at its size', () => {
    const range = CompactRange.fromFrontier(6, [reference.root(4), new ReferenceMerkleTree(leaves.slice(4, 6)).root()]);
    expect(() => range.appendNode({ level: 2, index: 1 }, leaves[0])).toThrow(
      new MerkleProofError("node at level 2, index 1 starts at leaf 4, not at the range's size 6"),
    );
    // Starts at 6 but would need 6 to be a multiple of 4.
    expect(() => range.appendNode({ level: 2, index: 1.5 }, leaves[0])).toThrow(MerkleProofError);
    expect(() => range.appendNode({ level: -1, index: 6 }, leaves[0])).toThrow(MerkleProofError);
    expect(() => range.appendNode({ level: 1, index: 3 }, leaves[0].subarray(2))).toThrow(MerkleProofError);
    expect(range.size).toBe(6);
  });

  it('rejects a frontier of the wrong length or with a malformed hash', () => {
    expect(() => CompactRange.fromFrontier(7, [leaves[0], leaves[1]])).toThrow(
      new MerkleProofError('the frontier of a tree of size 7 has 3 hashes, got 2'),
    );
    expect(() => CompactRange.fromFrontier(0, [leaves[0]])).toThrow(MerkleProofError);
    expect(() => CompactRange.fromFrontier(2, [Buffer.alloc(16)])).toThrow('frontier hash 0 must be a 32-byte hash, got 16 bytes');
    expect(() => CompactRange.fromFrontier(-1, [])).toThrow(MerkleProofError);
  });

  it('rejects a leaf hash that is not 32 bytes', () => {
    expect(() => CompactRange.empty().append(Buffer.from('not a hash'))).toThrow(MerkleProofError);
  });

  it('holds sizes beyond 32 bits', () => {
    const range = CompactRange.fromFrontier(2 ** 40, [leaves[0]]);
    const completed = range.append(leaves[1]);
    expect(completed).toEqual([{ level: 0, index: 2 ** 40, hash: leaves[1] }]);
    expect(range.size).toBe(2 ** 40 + 1);
    expect(range.frontier()).toEqual([leaves[0], leaves[1]]);
  });
});
