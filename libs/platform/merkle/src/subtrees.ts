import { MerkleProofError, requireCount, requireHash } from './errors.js';
import { EMPTY_ROOT, nodeHash } from './hashing.js';

/** A perfect (complete, aligned) subtree: covers leaves [index * 2^level, (index + 1) * 2^level). Level 0 = a leaf hash. */
export interface PerfectNode {
  level: number;
  index: number;
}

/** Half-open range of leaf indices. */
export interface LeafRange {
  start: number;
  end: number;
}

// Sizes can exceed 2^32, so no bitwise operators: powers of two and halving are done in floating point, exact below 2^53.
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

function requireRange({ start, end }: LeafRange): void {
  requireCount('range start', start);
  requireCount('range end', end);
  if (start > end) throw new MerkleProofError(`range start ${start} is after its end ${end}`);
}

/** Aligned perfect subtrees covering [start, end), left to right (the compact range decomposition). */
export function rangeNodes(range: LeafRange): PerfectNode[] {
  requireRange(range);
  const nodes: PerfectNode[] = [];
  let position = range.start;
  while (position < range.end) {
    let level = 0;
    let width = 1;
    while (position % (width * 2) === 0 && position + width * 2 <= range.end) {
      width *= 2;
      level++;
    }
    nodes.push({ level, index: position / width });
    position += width;
  }
  return nodes;
}

/**
 * Hash of MTH over a range given the hashes of its rangeNodes() in order, when that range is a subtree in RFC 9162's
 * recursive split: such a range starts at a multiple of a power of two at least its size, so its nodes shrink left to
 * right and the tree over them leans right.
 */
export function foldRange(nodeHashes: Uint8Array[]): Buffer {
  nodeHashes.forEach((hash, i) => requireHash(`node hash ${i}`, hash));
  if (nodeHashes.length === 0) return Buffer.from(EMPTY_ROOT);
  let hash: Buffer = Buffer.from(nodeHashes[nodeHashes.length - 1]);
  for (let i = nodeHashes.length - 2; i >= 0; i--) hash = nodeHash(nodeHashes[i], hash);
  return hash;
}
