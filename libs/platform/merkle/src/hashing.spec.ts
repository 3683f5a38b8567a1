import { describe, expect, it } from '@jest/globals';
import { EMPTY_ROOT, HASH_SIZE, leafHash, nodeHash } from './hashing.js';

describe(leafHash.name, () => {
  it('is SHA-256 of 0x00 and the data', () => {
    expect(leafHash(Buffer.alloc(0)).toString('hex')).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    expect(leafHash(Buffer.from('00', 'hex'))).toHaveLength(HASH_SIZE);
  });
});

describe(nodeHash.name, () => {
  it('is SHA-256 of 0x01, left and right', () => {
    // The root of the RFC 6962 test tree of size 2.
    expect(nodeHash(leafHash(Buffer.alloc(0)), leafHash(Buffer.from([0x00]))).toString('hex')).toBe(
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    );
  });

  it('depends on order and never equals the hash of a leaf holding the same bytes', () => {
    const a = leafHash(Buffer.from('a'));
    const b = leafHash(Buffer.from('b'));
    expect(nodeHash(a, b)).not.toEqual(nodeHash(b, a));
    expect(nodeHash(a, b)).not.toEqual(leafHash(Buffer.concat([a, b])));
  });
});

describe('EMPTY_ROOT', () => {
  it('is SHA-256 of the empty string', () => {
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
