import { HASH_SIZE } from './hashing.js';

/** Malformed Merkle input: an index outside the tree, a proof of the wrong length, a hash that is not 32 bytes, … */
export class MerkleProofError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MerkleProofError';
  }
}

export function requireCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new MerkleProofError(`${name} must be a non-negative safe integer, got ${String(value)}`);
  }
}

export function requireHash(name: string, hash: Uint8Array): void {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) {
    const got = hash instanceof Uint8Array ? `${hash.length} bytes` : typeof hash;
    throw new MerkleProofError(`${name} must be a ${HASH_SIZE}-byte hash, got ${got}`);
  }
}
