import { describe, expect, it } from '@jest/globals';
import { MerkleProofError } from './errors.js';
import { EMPTY_ROOT, leafHash } from './hashing.js';
import { ReferenceMerkleTree } from './reference-tree.js';
import { foldRange, rangeNodes } from './subtrees.js';

describe(rangeNodes.name, () => {
  it('splits a prefix into perfect subtrees, largest first', () => {
    expect(rangeNodes({ start: 0, end: 13 })).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
  });

  it('climbs then descends for a range starting mid-tree', () => {
    expect(rangeNodes({ start: 3, end: 13 })).toEqual([
      { level: 0, index: 3 },
      { level: 2, index: 1 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
  });

  it('covers every range exactly, with aligned nodes', () => {
    for (let start = 0; start <= 70; start++) {
      for (let end = start; end <= 70; end++) {
        let position = start;
        for (const node of rangeNodes({ start, end })) {
          expect(node.index * 2 ** node.level).toBe(position);
          position += 2 ** node.level;
        }
        expect(position).toBe(end);
      }
    }
  });

  it('is empty for an empty range and works beyond 32 bits', () => {
    expect(rangeNodes({ start: 5, end: 5 })).toEqual([]);
    expect(rangeNodes({ start: 0, end: 2 ** 52 + 1 })).toEqual([
      { level: 52, index: 0 },
      { level: 0, index: 2 ** 52 },
    ]);
  });

  it('rejects reversed, negative and fractional ranges', () => {
    expect(() => rangeNodes({ start: 4, end: 3 })).toThrow(new MerkleProofError('range start 4 is after its end 3'));
    expect(() => rangeNodes({ start: -1, end: 3 })).toThrow(MerkleProofError);
    expect(() => rangeNodes({ start: 0, end: 2.5 })).toThrow(MerkleProofError);
  });
});

describe(foldRange.name, () => {
  const leaves = Array.from({ length: 40 }, (_, i) => leafHash(Buffer.from([i])));
  const subtreeRoot = (start: number, end: number): Buffer => new ReferenceMerkleTree(leaves.slice(start, end)).root();

  it('gives MTH of every subtree of the recursive split from its node hashes', () => {
    // [32, 40) in a tree of 40, [16, 29) in a tree of 29, and whole prefixes.
    for (const [start, end] of [
      [32, 40],
      [16, 29],
      [0, 37],
      [0, 1],
    ]) {
      const hashes = rangeNodes({ start, end }).map((node) => {
        const width = 2 ** node.level;
        return subtreeRoot(node.index * width, (node.index + 1) * width);
      });
      expect(foldRange(hashes)).toEqual(subtreeRoot(start, end));
    }
  });

  it('gives the empty root for no nodes and rejects malformed hashes', () => {
    expect(foldRange([])).toEqual(EMPTY_ROOT);
    expect(() => foldRange([leaves[0], Buffer.alloc(3)])).toThrow(MerkleProofError);
  });
});
