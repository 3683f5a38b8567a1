import { MerkleProofError, requireCount, requireHash } from './errors.js';
import { EMPTY_ROOT, nodeHash } from './hashing.js';
import { largestPowerOfTwoBelow } from './subtrees.js';

/**
 * RFC 9162 §2.1's recursive definitions (MTH, PATH, PROOF/SUBPROOF) over an array of leaf hashes, transcribed
 * literally: the yardstick for the incremental code, and good enough for small trees.
 */
export class ReferenceMerkleTree {
  readonly #leaves: Buffer[];
  readonly #subtreeHashes = new Map<string, Buffer>();

  constructor(leafHashes: Uint8Array[]) {
    leafHashes.forEach((hash, i) => requireHash(`leaf hash ${i}`, hash));
    this.#leaves = leafHashes.map((hash) => Buffer.from(hash));
  }

  /** MTH(D[0:size]). */
  root(size: number = this.#leaves.length): Buffer {
    this.#requireSize('tree size', size);
    return Buffer.from(this.#mth(0, size));
  }

  /** PATH(index, D[0:size]). */
  inclusionProof(index: number, size: number = this.#leaves.length): Buffer[] {
    this.#requireSize('tree size', size);
    requireCount('leaf index', index);
    if (index >= size) throw new MerkleProofError(`leaf index ${index} is not in a tree of size ${size}`);
    return this.#path(index, 0, size).map((hash) => Buffer.from(hash));
  }

  /** PROOF(first, D[0:second]); empty when first is 0 or second. */
  consistencyProof(first: number, second: number): Buffer[] {
    requireCount('first tree size', first);
    this.#requireSize('second tree size', second);
    if (first > second) throw new MerkleProofError(`first tree size ${first} is larger than second tree size ${second}`);
    if (first === 0 || first === second) return [];
    return this.#subproof(first, 0, second, true).map((hash) => Buffer.from(hash));
  }

  #requireSize(name: string, size: number): void {
    requireCount(name, size);
    if (size > this.#leaves.length) throw new MerkleProofError(`${name} ${size} is larger than the ${this.#leaves.length} leaves held`);
  }

  /** MTH(D[start:end]), memoized because the proofs ask for the same subtrees again and again. */
  #mth(start: number, end: number): Buffer {
    const n = end - start;
    if (n === 0) return EMPTY_ROOT;
    if (n === 1) return this.#leaves[start];
    const key = `${start}:${end}`;
    let hash = this.#subtreeHashes.get(key);
    if (hash === undefined) {
      const k = largestPowerOfTwoBelow(n);
      hash = nodeHash(this.#mth(start, start + k), this.#mth(start + k, end));
      this.#subtreeHashes.set(key, hash);
    }
    return hash;
  }

  /** PATH(m, D[start:end]) with m relative to start. */
  #path(m: number, start: number, end: number): Buffer[] {
    const n = end - start;
    if (n === 1) return [];
    const k = largestPowerOfTwoBelow(n);
    return m < k
      ? [...this.#path(m, start, start + k), this.#mth(start + k, end)]
      : [...this.#path(m - k, start + k, end), this.#mth(start, start + k)];
  }

  /** SUBPROOF(m, D[start:end], b) with m relative to start. */
  #subproof(m: number, start: number, end: number, b: boolean): Buffer[] {
    const n = end - start;
    if (m === n) return b ? [] : [this.#mth(start, end)];
    const k = largestPowerOfTwoBelow(n);
    return m <= k
      ? [...this.#subproof(m, start, start + k, b), this.#mth(start + k, end)]
      : [...this.#subproof(m - k, start + k, end, false), this.#mth(start, start + k)];
  }
}
