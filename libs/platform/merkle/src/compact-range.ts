import { MerkleProofError, requireCount, requireHash } from './errors.js';
import { nodeHash } from './hashing.js';
import { foldRange, rangeNodes, type PerfectNode } from './subtrees.js';

const MAX_LEVEL = 53; // 2^53 leaves is past Number.MAX_SAFE_INTEGER

interface FrontierNode {
  level: number;
  hash: Buffer;
}

/** Incremental append-only tree state: the perfect subtrees covering [0, size), which is all an append needs. */
export class CompactRange {
  readonly #nodes: FrontierNode[];
  #size: number;

  private constructor(size: number, nodes: FrontierNode[]) {
    this.#size = size;
    this.#nodes = nodes;
  }

  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /** Restore from size + the hashes of rangeNodes({start:0,end:size}) in order. Throws if the count mismatches. */
  static fromFrontier(size: number, frontier: Uint8Array[]): CompactRange {
    requireCount('tree size', size);
    const shape = rangeNodes({ start: 0, end: size });
    if (frontier.length !== shape.length) {
      throw new MerkleProofError(`the frontier of a tree of size ${size} has ${shape.length} hashes, got ${frontier.length}`);
    }
    frontier.forEach((hash, i) => requireHash(`frontier hash ${i}`, hash));
    return new CompactRange(
      size,
      shape.map((node, i) => ({ level: node.level, hash: Buffer.from(frontier[i]) })),
    );
  }

  get size(): number {
    return this.#size;
  }

  /** Hashes of rangeNodes({start:0,end:size}), left to right. */
  frontier(): Buffer[] {
    return this.#nodes.map((node) => Buffer.from(node.hash));
  }

  /** Appends one leaf hash; returns every perfect node it completes: the leaf (level 0) first, then each parent formed. */
  append(leafHash: Uint8Array): Array<PerfectNode & { hash: Buffer }> {
    requireHash('leaf hash', leafHash);
    const completed: Array<PerfectNode & { hash: Buffer }> = [];
    this.#push(0, leafHash, (node) => completed.push({ ...node, hash: Buffer.from(node.hash) }));
    return completed;
  }

  /** Appends an aligned perfect subtree node (to merge a right-hand range into this one). */
  appendNode(node: PerfectNode, hash: Uint8Array): void {
    requireCount('node level', node.level);
    requireCount('node index', node.index);
    requireHash('node hash', hash);
    if (node.level > MAX_LEVEL) throw new MerkleProofError(`node level ${node.level} is above ${MAX_LEVEL}`);
    const width = 2 ** node.level;
    if (node.index * width !== this.#size) {
      throw new MerkleProofError(
        `node at level ${node.level}, index ${node.index} starts at leaf ${node.index * width}, not at the range's size ${this.#size}`,
      );
    }
    this.#push(node.level, hash);
  }

  /** MTH of the leaves so far (EMPTY_ROOT when size is 0). */
  root(): Buffer {
    return foldRange(this.#nodes.map((node) => node.hash));
  }

  #push(level: number, hash: Uint8Array, onCompleted?: (node: PerfectNode & { hash: Buffer }) => void): void {
    const size = this.#size + 2 ** level;
    if (!Number.isSafeInteger(size)) throw new MerkleProofError(`a tree of size ${size} is beyond safe integers`);
    let node: FrontierNode = { level, hash: Buffer.from(hash) };
    onCompleted?.({ level, index: this.#size / 2 ** level, hash: node.hash });
    // Equal neighbours are siblings: merge them, as binary addition carries.
    for (let last = this.#nodes.at(-1); last !== undefined && last.level === node.level; last = this.#nodes.at(-1)) {
      this.#nodes.pop();
      node = { level: node.level + 1, hash: nodeHash(last.hash, node.hash) };
      onCompleted?.({ level: node.level, index: size / 2 ** node.level - 1, hash: node.hash });
    }
    this.#nodes.push(node);
    this.#size = size;
  }
}
