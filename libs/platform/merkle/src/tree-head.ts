import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { MerkleProofError, requireCount, requireHash } from './errors.js';
import { HASH_SIZE } from './hashing.js';

export interface TreeHead {
  treeSize: number;
  rootHash: Uint8Array;
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
}

// RFC 6962 §3.5 TreeHeadSignature: Version v1(0), SignatureType tree_hash(1).
const VERSION_V1 = 0;
const SIGNATURE_TYPE_TREE_HASH = 1;

/** The RFC 6962 §3.5 TreeHeadSignature bytes: version, signature_type, timestamp, tree_size, sha256_root_hash. */
export function treeHeadSignatureInput(head: TreeHead): Buffer {
  requireCount('tree size', head.treeSize);
  requireCount('timestamp', head.timestamp);
  requireHash('root hash', head.rootHash);
  const input = Buffer.alloc(1 + 1 + 8 + 8 + HASH_SIZE);
  input.writeUInt8(VERSION_V1, 0);
  input.writeUInt8(SIGNATURE_TYPE_TREE_HASH, 1);
  input.writeBigUInt64BE(BigInt(head.timestamp), 2);
  input.writeBigUInt64BE(BigInt(head.treeSize), 10);
  input.set(head.rootHash, 18);
  return input;
}

function requireEd25519(key: KeyObject, type: 'private' | 'public'): void {
  if (key.type !== type || key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`expected an Ed25519 ${type} key, got a ${key.asymmetricKeyType ?? 'secret'} ${key.type} key`);
  }
}

export function signTreeHead(head: TreeHead, privateKey: KeyObject): Buffer {
  requireEd25519(privateKey, 'private');
  return sign(null, treeHeadSignatureInput(head), privateKey);
}

/** False for a bad signature or a malformed head; throws if the key is not an Ed25519 public key. */
export function verifyTreeHead(head: TreeHead, signature: Uint8Array, publicKey: KeyObject): boolean {
  requireEd25519(publicKey, 'public');
  let input: Buffer;
  try {
    input = treeHeadSignatureInput(head);
  } catch (error) {
    if (error instanceof MerkleProofError) return false;
    throw error;
  }
  return verify(null, input, publicKey, signature);
}

/** Lowercase hex SHA-256 of the public key's SPKI DER, as a CT log ID. */
export function keyIdOf(publicKey: KeyObject): string {
  if (publicKey.type !== 'public') throw new TypeError(`expected a public key, got a ${publicKey.type} key`);
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}
