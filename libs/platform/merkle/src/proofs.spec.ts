import { describe, expect, it } from '@jest/globals';
import { CompactRange } from './compact-range.js';
import { MerkleProofError } from './errors.js';
import { EMPTY_ROOT, leafHash, nodeHash } from './hashing.js';
import {
  buildConsistencyProof,
  buildInclusionProof,
  consistencyProofRanges,
  inclusionProofRanges,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
  type FetchNodes,
} from './proofs.js';
import { ReferenceMerkleTree } from './reference-tree.js';
import type { PerfectNode } from './subtrees.js';

const MAX_SIZE = 200;
// Damaging every hash of every proof costs ~20 verifications per proof; all trees up to this size get that treatment.
const DAMAGE_MAX_SIZE = 64;
const leaves = Array.from({ length: MAX_SIZE + 2 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
const reference = new ReferenceMerkleTree(leaves);
const roots = leaves.map((_, size) => reference.root(size));

/** The node store a log server keeps: every node CompactRange.append reports, keyed by position. */
const storedNodes = new Map<string, Buffer>();
const tree = CompactRange.empty();
for (const leaf of leaves) for (const node of tree.append(leaf)) storedNodes.set(`${node.level}:${node.index}`, node.hash);

function storedTree(): { fetch: FetchNodes; calls: PerfectNode[][] } {
  const calls: PerfectNode[][] = [];
  const fetch: FetchNodes = async (wanted) => {
    calls.push(wanted);
    return wanted.map((node) => {
      const hash = storedNodes.get(`${node.level}:${node.index}`);
      if (hash === undefined) throw new Error(`node ${node.level}:${node.index} is not stored`);
      return hash;
    });
  };
  return { fetch, calls };
}

const hex = (hashes: Uint8Array[]): string => hashes.map((hash) => Buffer.from(hash).toString('hex')).join(',');

function flipByte(hash: Uint8Array, position: number): Buffer {
  const flipped = Buffer.from(hash);
  flipped[position % flipped.length] ^= 0x01;
  return flipped;
}

/** Every way of damaging a proof by one byte or one hash. */
function damagedProofs(proof: Buffer[], seed: number): Array<[string, Buffer[]]> {
  const damaged: Array<[string, Buffer[]]> = [['an extra hash', [...proof, leaves[0]]]];
  for (let j = 0; j < proof.length; j++) {
    damaged.push([`byte flipped in hash ${j}`, proof.map((h, i) => (i === j ? flipByte(h, seed + 11 * j) : h))]);
    damaged.push([`hash ${j} dropped`, proof.filter((_, i) => i !== j)]);
  }
  if (proof.length > 1) damaged.push(['hashes swapped', [proof[1], proof[0], ...proof.slice(2)]]);
  return damaged;
}

/** Which side each inclusion proof hash sits on: the only thing the verifier learns from index and size. */
const inclusionShape = (index: number, size: number): string =>
  inclusionProofRanges(index, size)
    .map((range) => (range.end <= index ? 'L' : 'R'))
    .join('');

describe(inclusionProofRanges.name, () => {
  it('lists the sibling subtrees bottom-up', () => {
    expect(inclusionProofRanges(5, 8)).toEqual([
      { start: 4, end: 5 },
      { start: 6, end: 8 },
      { start: 0, end: 4 },
    ]);
    expect(inclusionProofRanges(0, 1)).toEqual([]);
  });

  it('handles sizes beyond 32 bits', () => {
    expect(inclusionProofRanges(2 ** 40, 2 ** 40 + 1)).toEqual([{ start: 0, end: 2 ** 40 }]);
  });

  it.each([
    [8, 8],
    [0, 0],
    [-1, 4],
    [1.5, 4],
    [Number.NaN, 4],
    [0, 2 ** 53],
  ])('rejects leaf %d in a tree of size %d', (index, size) => {
    expect(() => inclusionProofRanges(index, size)).toThrow(MerkleProofError);
  });
});

describe(consistencyProofRanges.name, () => {
  it('lists the SUBPROOF subtrees in proof order', () => {
    expect(consistencyProofRanges(6, 8)).toEqual([
      { start: 4, end: 6 },
      { start: 6, end: 8 },
      { start: 0, end: 4 },
    ]);
    expect(consistencyProofRanges(4, 8)).toEqual([{ start: 4, end: 8 }]);
  });

  it('is empty from size 0 and between equal sizes', () => {
    expect(consistencyProofRanges(0, 5)).toEqual([]);
    expect(consistencyProofRanges(5, 5)).toEqual([]);
    expect(consistencyProofRanges(0, 0)).toEqual([]);
  });

  it('rejects a first size larger than the second, negatives and fractions', () => {
    expect(() => consistencyProofRanges(6, 5)).toThrow('first tree size 6 is larger than second tree size 5');
    expect(() => consistencyProofRanges(-1, 5)).toThrow(MerkleProofError);
    expect(() => consistencyProofRanges(1, 5.5)).toThrow(MerkleProofError);
  });
});

describe(buildInclusionProof.name, () => {
  it(`equals the reference PATH for every leaf of every tree up to size ${MAX_SIZE}, with one deduplicated fetch`, async () => {
    const mismatches: string[] = [];
    for (let size = 1; size <= MAX_SIZE; size++) {
      for (let index = 0; index < size; index++) {
        const { fetch, calls } = storedTree();
        const proof = await buildInclusionProof(index, size, fetch);
        if (hex(proof) !== hex(reference.inclusionProof(index, size))) mismatches.push(`proof ${index}/${size}`);
        const fetched = calls.flat().map((node) => `${node.level}:${node.index}`);
        if (calls.length !== (proof.length === 0 ? 0 : 1)) mismatches.push(`${calls.length} fetches for ${index}/${size}`);
        if (new Set(fetched).size !== fetched.length) mismatches.push(`duplicate nodes fetched for ${index}/${size}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('rejects a fetch that returns the wrong number of hashes', async () => {
    await expect(buildInclusionProof(0, 5, async () => [])).rejects.toThrow('fetch returned 0 hashes for 3 nodes');
  });

  it('rejects a fetched hash that is not 32 bytes, naming the node', async () => {
    await expect(buildInclusionProof(0, 2, async (nodes) => nodes.map(() => Buffer.alloc(4)))).rejects.toThrow(
      new MerkleProofError('fetched hash of node 0:1 must be a 32-byte hash, got 4 bytes'),
    );
  });

  it('rejects an index outside the tree without fetching', async () => {
    const { fetch, calls } = storedTree();
    await expect(buildInclusionProof(5, 5, fetch)).rejects.toThrow(MerkleProofError);
    expect(calls).toEqual([]);
  });
});

describe(buildConsistencyProof.name, () => {
  it(`equals the reference PROOF for every pair of sizes up to ${MAX_SIZE}, with one deduplicated fetch`, async () => {
    const mismatches: string[] = [];
    for (let second = 0; second <= MAX_SIZE; second++) {
      for (let first = 0; first <= second; first++) {
        const { fetch, calls } = storedTree();
        const proof = await buildConsistencyProof(first, second, fetch);
        if (hex(proof) !== hex(reference.consistencyProof(first, second))) mismatches.push(`proof ${first}->${second}`);
        const fetched = calls.flat().map((node) => `${node.level}:${node.index}`);
        if (calls.length !== (proof.length === 0 ? 0 : 1)) mismatches.push(`${calls.length} fetches for ${first}->${second}`);
        if (new Set(fetched).size !== fetched.length) mismatches.push(`duplicate nodes fetched for ${first}->${second}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('rejects a first size larger than the second', async () => {
    await expect(buildConsistencyProof(3, 2, storedTree().fetch)).rejects.toThrow(MerkleProofError);
  });
});

describe(verifyInclusion.name, () => {
  it(`accepts every reference proof up to size ${MAX_SIZE}`, () => {
    const failures: string[] = [];
    for (let size = 1; size <= MAX_SIZE; size++) {
      for (let index = 0; index < size; index++) {
        const proof = reference.inclusionProof(index, size);
        if (!verifyInclusion(leaves[index], index, size, proof, roots[size])) failures.push(`${index}/${size}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it(`rejects every damaged proof, leaf, root, index and size up to size ${DAMAGE_MAX_SIZE}`, () => {
    const failures: string[] = [];
    for (let size = 1; size <= DAMAGE_MAX_SIZE; size++) {
      for (let index = 0; index < size; index++) {
        const leaf = leaves[index];
        const proof = reference.inclusionProof(index, size);
        const at = `${index}/${size}`;
        for (const [damage, bad] of damagedProofs(proof, index + size)) {
          if (verifyInclusion(leaf, index, size, bad, roots[size])) failures.push(`accepted ${at} with ${damage}`);
        }
        if (verifyInclusion(flipByte(leaf, index), index, size, proof, roots[size])) failures.push(`accepted ${at} for another leaf`);
        if (verifyInclusion(leaf, index, size, proof, flipByte(roots[size], size))) failures.push(`accepted ${at} for another root`);
        for (const wrongIndex of [index - 1, index + 1]) {
          if (verifyInclusion(leaf, wrongIndex, size, proof, roots[size])) failures.push(`accepted ${at} as index ${wrongIndex}`);
        }
        for (const wrongSize of [size - 1, size + 1]) {
          if (verifyInclusion(leaf, index, wrongSize, proof, roots[wrongSize])) failures.push(`accepted ${at} as size ${wrongSize}`);
          // Against the original root, only a size with the very same left/right path can pass: the proof does not
          // bind the size, which is why the signed tree head does.
          const sameShape = wrongSize > index && inclusionShape(index, wrongSize) === inclusionShape(index, size);
          if (verifyInclusion(leaf, index, wrongSize, proof, roots[size]) !== sameShape) failures.push(`size ${wrongSize} vs ${at}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('accepts a proof for a different size with the same path against the same root, as RFC 9162 verification does', () => {
    const proof = reference.inclusionProof(0, 3);
    expect(verifyInclusion(leaves[0], 0, 4, proof, roots[3])).toBe(true);
    expect(verifyInclusion(leaves[0], 0, 4, proof, roots[4])).toBe(false);
  });

  it('returns false rather than throwing on malformed input', () => {
    const proof = reference.inclusionProof(1, 4);
    expect(verifyInclusion(leaves[1], 1, 4, [...proof.slice(0, 1), Buffer.alloc(31), proof[1]], roots[4])).toBe(false);
    expect(verifyInclusion(leaves[1], -1, 4, proof, roots[4])).toBe(false);
    expect(verifyInclusion(leaves[1], 1.5, 4, proof, roots[4])).toBe(false);
    expect(verifyInclusion(Buffer.alloc(0), 1, 4, proof, roots[4])).toBe(false);
  });
});

describe(rootFromInclusionProof.name, () => {
  it('recomputes the root from a proof', () => {
    expect(rootFromInclusionProof(leaves[6], 6, 7, reference.inclusionProof(6, 7))).toEqual(roots[7]);
  });

  it('says what is wrong with a malformed proof', () => {
    const proof = reference.inclusionProof(2, 5);
    expect(() => rootFromInclusionProof(leaves[2], 2, 5, proof.slice(1))).toThrow(
      new MerkleProofError('inclusion proof for leaf 2 in a tree of size 5 must have 3 hashes, got 2'),
    );
    expect(() => rootFromInclusionProof(leaves[2], 2, 5, [...proof, leaves[0]])).toThrow('must have 3 hashes, got 4');
    expect(() => rootFromInclusionProof(leaves[2], 5, 5, proof)).toThrow('leaf index 5 is not in a tree of size 5');
    expect(() => rootFromInclusionProof(leaves[2], 2, -5, proof)).toThrow('tree size must be a non-negative safe integer, got -5');
    expect(() => rootFromInclusionProof(leaves[2], 2, 5, [proof[0], proof[1].subarray(1), proof[2]])).toThrow(
      'proof hash 1 must be a 32-byte hash, got 31 bytes',
    );
  });

  it('handles indices beyond 32 bits', () => {
    const left = leaves[0];
    const leaf = leaves[1];
    expect(rootFromInclusionProof(leaf, 2 ** 40, 2 ** 40 + 1, [left])).toEqual(nodeHash(left, leaf));
    expect(rootFromInclusionProof(leaf, 2 ** 41 - 1, 2 ** 41, Array(41).fill(left)).length).toBe(32);
  });
});

describe(verifyConsistency.name, () => {
  it(`accepts every reference proof between sizes up to ${MAX_SIZE}`, () => {
    const failures: string[] = [];
    for (let second = 0; second <= MAX_SIZE; second++) {
      for (let first = 0; first <= second; first++) {
        const proof = reference.consistencyProof(first, second);
        if (!verifyConsistency(first, second, roots[first], roots[second], proof)) failures.push(`${first}->${second}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it(`rejects every damaged proof, root and size between sizes up to ${DAMAGE_MAX_SIZE}`, () => {
    const failures: string[] = [];
    for (let second = 0; second <= DAMAGE_MAX_SIZE; second++) {
      for (let first = 0; first <= second; first++) {
        const proof = reference.consistencyProof(first, second);
        const at = `${first}->${second}`;
        for (const [damage, bad] of damagedProofs(proof, first + second)) {
          if (verifyConsistency(first, second, roots[first], roots[second], bad)) failures.push(`accepted ${at} with ${damage}`);
        }
        if (verifyConsistency(first, second, flipByte(roots[first], first), roots[second], proof)) {
          failures.push(`accepted ${at} for another first root`);
        }
        // Every tree extends the empty one, so from size 0 the second root and size are not checked.
        if (first === 0) continue;
        if (verifyConsistency(first, second, roots[first], flipByte(roots[second], second), proof)) {
          failures.push(`accepted ${at} for another second root`);
        }
        for (const wrongFirst of [first - 1, first + 1]) {
          const wrongRoot = roots[Math.max(wrongFirst, 0)];
          // Size 0 with an empty proof is a genuine claim (see above), not a damaged one.
          if (wrongFirst === 0 && proof.length === 0) continue;
          if (verifyConsistency(wrongFirst, second, wrongRoot, roots[second], proof)) failures.push(`accepted ${at} from ${wrongFirst}`);
        }
        for (const wrongSecond of [second - 1, second + 1]) {
          const wrongRoot = roots[Math.max(wrongSecond, 0)];
          if (verifyConsistency(first, wrongSecond, roots[first], wrongRoot, proof)) failures.push(`accepted ${at} to ${wrongSecond}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('between equal sizes wants an empty proof and equal roots', () => {
    expect(verifyConsistency(5, 5, roots[5], roots[5], [])).toBe(true);
    expect(verifyConsistency(5, 5, roots[5], roots[6], [])).toBe(false);
    expect(verifyConsistency(5, 5, roots[5], roots[5], [leaves[0]])).toBe(false);
    expect(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(true);
  });

  it('from size 0 wants an empty proof and the empty root', () => {
    expect(verifyConsistency(0, 7, EMPTY_ROOT, roots[7], [])).toBe(true);
    expect(verifyConsistency(0, 7, EMPTY_ROOT, roots[7], [roots[7]])).toBe(false);
    expect(verifyConsistency(0, 7, roots[1], roots[7], [])).toBe(false);
    expect(verifyConsistency(0, 7, EMPTY_ROOT, roots[6], [])).toBe(true);
  });

  it('rejects an empty proof between different non-zero sizes', () => {
    expect(verifyConsistency(4, 8, roots[4], roots[8], [])).toBe(false);
  });

  it('returns false rather than throwing on malformed input', () => {
    const proof = reference.consistencyProof(3, 7);
    expect(verifyConsistency(7, 3, roots[7], roots[3], proof)).toBe(false);
    expect(verifyConsistency(-3, 7, roots[3], roots[7], proof)).toBe(false);
    expect(verifyConsistency(3, 7.5, roots[3], roots[7], proof)).toBe(false);
    expect(verifyConsistency(3, 7, roots[3].subarray(1), roots[7], proof)).toBe(false);
    expect(verifyConsistency(3, 7, roots[3], roots[7], [...proof.slice(1), Buffer.alloc(33)])).toBe(false);
  });

  it('handles sizes beyond 32 bits', () => {
    const first = roots[8];
    const leaf = leaves[9];
    expect(verifyConsistency(2 ** 40, 2 ** 40 + 1, first, nodeHash(first, leaf), [leaf])).toBe(true);
    expect(verifyConsistency(2 ** 40, 2 ** 40 + 1, first, nodeHash(leaf, first), [leaf])).toBe(false);
  });
});
