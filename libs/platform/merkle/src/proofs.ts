import { MerkleProofError, requireCount, requireHash } from './errors.js';
import { EMPTY_ROOT, nodeHash, sameHash } from './hashing.js';
import { foldRange, isPowerOfTwo, largestPowerOfTwoBelow, rangeNodes, type LeafRange, type PerfectNode } from './subtrees.js';

/** Returns the hashes of the given perfect nodes, in the same order. */
export type FetchNodes = (nodes: PerfectNode[]) => Promise<Uint8Array[]>;

function requireLeafInTree(leafIndex: number, treeSize: number): void {
  requireCount('leaf index', leafIndex);
  requireCount('tree size', treeSize);
  if (leafIndex >= treeSize) throw new MerkleProofError(`leaf index ${leafIndex} is not in a tree of size ${treeSize}`);
}

function requireOrderedSizes(first: number, second: number): void {
  requireCount('first tree size', first);
  requireCount('second tree size', second);
  if (first > second) throw new MerkleProofError(`first tree size ${first} is larger than second tree size ${second}`);
}

/** The subtree ranges whose MTH make up RFC 9162 PATH(m, D[n]), in proof order (bottom-up). */
export function inclusionProofRanges(leafIndex: number, treeSize: number): LeafRange[] {
  requireLeafInTree(leafIndex, treeSize);
  const topDown: LeafRange[] = [];
  let start = 0;
  let end = treeSize;
  while (end - start > 1) {
    const split = start + largestPowerOfTwoBelow(end - start);
    if (leafIndex < split) {
      topDown.push({ start: split, end });
      end = split;
    } else {
      topDown.push({ start, end: split });
      start = split;
    }
  }
  return topDown.reverse();
}

/** The subtree ranges of RFC 9162 PROOF(m, D[n]) / SUBPROOF, in proof order. Empty when first is 0 or second. */
export function consistencyProofRanges(first: number, second: number): LeafRange[] {
  requireOrderedSizes(first, second);
  if (first === 0 || first === second) return [];
  const topDown: LeafRange[] = [];
  let start = 0;
  let end = second;
  // SUBPROOF's flag b: true while [start, end) still begins with the whole old tree, whose root the verifier knows.
  let oldRootKnown = true;
  while (first !== end) {
    const split = start + largestPowerOfTwoBelow(end - start);
    if (first <= split) {
      topDown.push({ start: split, end });
      end = split;
    } else {
      topDown.push({ start, end: split });
      start = split;
      oldRootKnown = false;
    }
  }
  if (!oldRootKnown) topDown.push({ start, end });
  return topDown.reverse();
}

async function buildProof(ranges: LeafRange[], fetch: FetchNodes): Promise<Buffer[]> {
  const wanted: PerfectNode[] = [];
  const positionOf = new Map<string, number>();
  const positionsPerRange = ranges.map((range) =>
    rangeNodes(range).map((node) => {
      const key = `${node.level}:${node.index}`;
      let position = positionOf.get(key);
      if (position === undefined) {
        position = wanted.push(node) - 1;
        positionOf.set(key, position);
      }
      return position;
    }),
  );
  const hashes = wanted.length === 0 ? [] : await fetch(wanted);
  if (hashes.length !== wanted.length) {
    throw new Error(`fetch returned ${hashes.length} hashes for ${wanted.length} nodes`);
  }
  hashes.forEach((hash, i) => requireHash(`fetched hash of node ${wanted[i].level}:${wanted[i].index}`, hash));
  return positionsPerRange.map((positions) => foldRange(positions.map((position) => hashes[position])));
}

/** PATH(m, D[n]) from stored perfect nodes, fetched with one call of fetch (none if the proof is empty). */
export async function buildInclusionProof(leafIndex: number, treeSize: number, fetch: FetchNodes): Promise<Buffer[]> {
  return buildProof(inclusionProofRanges(leafIndex, treeSize), fetch);
}

/** PROOF(m, D[n]) from stored perfect nodes, fetched with one call of fetch (none if the proof is empty). */
export async function buildConsistencyProof(first: number, second: number, fetch: FetchNodes): Promise<Buffer[]> {
  return buildProof(consistencyProofRanges(first, second), fetch);
}

const isOdd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

function requireProofHashes(proof: Uint8Array[]): void {
  proof.forEach((hash, i) => requireHash(`proof hash ${i}`, hash));
}

function wrongLength(kind: string, subject: string, expected: number, got: number): MerkleProofError {
  return new MerkleProofError(`${kind} proof for ${subject} must have ${expected} hashes, got ${got}`);
}

/** The root implied by an inclusion proof, by the algorithm of RFC 9162 §2.1.3.2. */
export function rootFromInclusionProof(leafHash: Uint8Array, leafIndex: number, treeSize: number, proof: Uint8Array[]): Buffer {
  requireLeafInTree(leafIndex, treeSize);
  requireHash('leaf hash', leafHash);
  requireProofHashes(proof);
  const subject = `leaf ${leafIndex} in a tree of size ${treeSize}`;
  const tooShortOrLong = (): MerkleProofError =>
    wrongLength('inclusion', subject, inclusionProofRanges(leafIndex, treeSize).length, proof.length);
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0) throw tooShortOrLong();
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw tooShortOrLong();
  return r;
}

export function verifyInclusion(leafHash: Uint8Array, leafIndex: number, treeSize: number, proof: Uint8Array[], root: Uint8Array): boolean {
  return falseOnMalformed(() => sameHash(rootFromInclusionProof(leafHash, leafIndex, treeSize, proof), root));
}

/** RFC 9162 §2.1.4.2; throws MerkleProofError on malformed input. */
function checkConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: Uint8Array[],
): boolean {
  requireOrderedSizes(first, second);
  requireHash('first root', firstRoot);
  requireHash('second root', secondRoot);
  requireProofHashes(proof);
  const expectedLength = (): number => consistencyProofRanges(first, second).length;
  const subject = `tree sizes ${first} and ${second}`;
  if (first === second || first === 0) {
    if (proof.length !== 0) throw wrongLength('consistency', subject, 0, proof.length);
    // Every tree extends the empty tree, whose root is fixed.
    return first === second ? sameHash(firstRoot, secondRoot) : sameHash(firstRoot, EMPTY_ROOT);
  }
  if (proof.length === 0) throw wrongLength('consistency', subject, expectedLength(), 0);
  // When the old tree is a perfect subtree of the new one, the proof omits its root: the verifier already has it.
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : proof;
  let fn = first - 1;
  let sn = second - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]);
  let sr: Buffer = Buffer.from(path[0]);
  for (const c of path.slice(1)) {
    if (sn === 0) throw wrongLength('consistency', subject, expectedLength(), proof.length);
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw wrongLength('consistency', subject, expectedLength(), proof.length);
  return sameHash(fr, firstRoot) && sameHash(sr, secondRoot);
}

/** Whether the tree of size second with secondRoot extends the tree of size first with firstRoot (RFC 9162 §2.1.4.2). */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: Uint8Array[],
): boolean {
  return falseOnMalformed(() => checkConsistency(first, second, firstRoot, secondRoot, proof));
}

function falseOnMalformed(check: () => boolean): boolean {
  try {
    return check();
  } catch (error) {
    if (error instanceof MerkleProofError) return false;
    throw error;
  }
}
