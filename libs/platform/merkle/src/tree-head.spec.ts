import { describe, expect, it } from '@jest/globals';
import { createPublicKey, createSecretKey, generateKeyPairSync } from 'node:crypto';
import { MerkleProofError } from './errors.js';
import { leafHash } from './hashing.js';
import { keyIdOf, signTreeHead, treeHeadSignatureInput, verifyTreeHead, type TreeHead } from './tree-head.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const head: TreeHead = { treeSize: 1234567, rootHash: leafHash(Buffer.from('root')), timestamp: 1_700_000_000_123 };

function flipBit(bytes: Uint8Array, bit: number): Buffer {
  const flipped = Buffer.from(bytes);
  flipped[bit >> 3] ^= 1 << (bit & 7);
  return flipped;
}

describe(treeHeadSignatureInput.name, () => {
  it('lays out the RFC 6962 TreeHeadSignature: version, signature type, timestamp, tree size, root hash', () => {
    const input = treeHeadSignatureInput({ treeSize: 0x0102030405, rootHash: Buffer.alloc(32, 0xab), timestamp: 0x060708090a0b });
    expect(input.toString('hex')).toBe(`0001${'0000060708090a0b'}${'0000000102030405'}${'ab'.repeat(32)}`);
  });

  it('rejects fields that do not fit', () => {
    expect(() => treeHeadSignatureInput({ ...head, treeSize: -1 })).toThrow(MerkleProofError);
    expect(() => treeHeadSignatureInput({ ...head, timestamp: 1.5 })).toThrow(MerkleProofError);
    expect(() => treeHeadSignatureInput({ ...head, rootHash: Buffer.alloc(20) })).toThrow('root hash must be a 32-byte hash, got 20 bytes');
  });
});

describe(signTreeHead.name, () => {
  it('signs a head that verifies with the matching public key', () => {
    const signature = signTreeHead(head, privateKey);
    expect(signature).toHaveLength(64);
    expect(verifyTreeHead(head, signature, publicKey)).toBe(true);
  });

  it('refuses a key that is not an Ed25519 private key', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => signTreeHead(head, ec.privateKey)).toThrow(TypeError);
    expect(() => signTreeHead(head, publicKey)).toThrow(TypeError);
    expect(() => signTreeHead(head, createSecretKey(Buffer.alloc(32)))).toThrow(TypeError);
  });
});

describe(verifyTreeHead.name, () => {
  const signature = signTreeHead(head, privateKey);

  it('rejects a flipped bit in any field', () => {
    const accepted: string[] = [];
    // Bits 53 and up make the number unsafe, which verifies false as a malformed head.
    const flip = (value: number, bit: number): number => Number(BigInt(value) ^ (1n << BigInt(bit)));
    for (let bit = 0; bit < 64; bit++) {
      if (verifyTreeHead({ ...head, treeSize: flip(head.treeSize, bit) }, signature, publicKey)) accepted.push(`tree size bit ${bit}`);
      if (verifyTreeHead({ ...head, timestamp: flip(head.timestamp, bit) }, signature, publicKey)) accepted.push(`timestamp bit ${bit}`);
    }
    for (let bit = 0; bit < 256; bit++) {
      if (verifyTreeHead({ ...head, rootHash: flipBit(head.rootHash, bit) }, signature, publicKey)) accepted.push(`root bit ${bit}`);
    }
    expect(accepted).toEqual([]);
  });

  it('rejects a flipped bit anywhere in the signature, and a truncated signature', () => {
    const accepted: number[] = [];
    for (let bit = 0; bit < signature.length * 8; bit++) if (verifyTreeHead(head, flipBit(signature, bit), publicKey)) accepted.push(bit);
    expect(accepted).toEqual([]);
    expect(verifyTreeHead(head, signature.subarray(0, 63), publicKey)).toBe(false);
    expect(verifyTreeHead(head, Buffer.alloc(0), publicKey)).toBe(false);
  });

  it("rejects another key's signature", () => {
    expect(verifyTreeHead(head, signature, generateKeyPairSync('ed25519').publicKey)).toBe(false);
  });

  it('returns false for a malformed head', () => {
    expect(verifyTreeHead({ ...head, treeSize: -1 }, signature, publicKey)).toBe(false);
  });

  it('throws for a key that is not an Ed25519 public key', () => {
    expect(() => verifyTreeHead(head, signature, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)).toThrow(TypeError);
    expect(() => verifyTreeHead(head, signature, generateKeyPairSync('ed448').publicKey)).toThrow(TypeError);
    expect(() => verifyTreeHead(head, signature, privateKey)).toThrow(TypeError);
  });
});

describe(keyIdOf.name, () => {
  it('is the hex SHA-256 of the SPKI DER, the same for every export of the key', () => {
    const id = keyIdOf(publicKey);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(keyIdOf(publicKey)).toBe(id);
    expect(keyIdOf(createPublicKey(publicKey.export({ type: 'spki', format: 'pem' })))).toBe(id);
    expect(keyIdOf(generateKeyPairSync('ed25519').publicKey)).not.toBe(id);
  });

  it('matches a value computed outside Node for a fixed key', () => {
    // RFC 8032 §7.1 TEST 1 public key in its 12-byte Ed25519 SPKI prefix; expected value from Python's hashlib.
    const der = Buffer.from('302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');
    const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    expect(keyIdOf(key)).toBe('06e3fd8fda29bb60ab59557de61edb0aecdb231134be30e75b455f8e1b792fa9');
  });

  it('refuses a private key', () => {
    expect(() => keyIdOf(privateKey)).toThrow(TypeError);
  });
});
