export { canonicalJson } from './canonical-json.js';
export { CompactRange } from './compact-range.js';
export { MerkleProofError } from './errors.js';
export { EMPTY_ROOT, HASH_SIZE, leafHash, nodeHash } from './hashing.js';
export {
  buildConsistencyProof,
  buildInclusionProof,
  consistencyProofRanges,
  inclusionProofRanges,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
  type FetchNodes,
} from './proofs.js';
export { ReferenceMerkleTree } from './reference-tree.js';
export { rootFromSegment, segmentProofNodes } from './segment.js';
export { foldRange, rangeNodes, type LeafRange, type PerfectNode } from './subtrees.js';
export { keyIdOf, signTreeHead, treeHeadSignatureInput, verifyTreeHead, type TreeHead } from './tree-head.js';
