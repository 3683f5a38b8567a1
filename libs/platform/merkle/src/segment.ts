import { MerkleProofError, requireCount } from './errors.js';
import { CompactRange } from './compact-range.js';
import { rangeNodes, type PerfectNode } from './subtrees.js';

/**
 * Range proof for an exported segment [start, end) of a tree of size treeSize: the left part is the frontier of
 * [0, start), the right part is rangeNodes({end, treeSize}).
 */
export function segmentProofNodes(start: number, end: number, treeSize: number): { left: PerfectNode[]; right: PerfectNode[] } {
  requireCount('segment start', start);
  requireCount('segment end', end);
  requireCount('tree size', treeSize);
  if (start > end || end > treeSize) {
    throw new MerkleProofError(`segment [${start}, ${end}) is not within a tree of size ${treeSize}`);
  }
  return { left: rangeNodes({ start: 0, end: start }), right: rangeNodes({ start: end, end: treeSize }) };
}

/** The root of a tree of size treeSize given the leaf hashes of [start, end) and the segment proof's hashes. */
export function rootFromSegment(
  start: number,
  leafHashes: Uint8Array[],
  left: Uint8Array[],
  right: Uint8Array[],
  treeSize: number,
): Buffer {
  const end = start + leafHashes.length;
  const nodes = segmentProofNodes(start, end, treeSize);
  if (right.length !== nodes.right.length) {
    throw new MerkleProofError(
      `segment [${start}, ${end}) of a tree of size ${treeSize} needs ${nodes.right.length} right-hand hashes, got ${right.length}`,
    );
  }
  const range = CompactRange.fromFrontier(start, left);
  for (const hash of leafHashes) range.append(hash);
  nodes.right.forEach((node, i) => range.appendNode(node, right[i]));
  return range.root();
}
