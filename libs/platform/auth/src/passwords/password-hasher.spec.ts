import { describe, expect, it } from '@jest/globals';
import {
  DUMMY_PASSWORD_HASH,
  PASSWORD_HASH_OPTIONS,
  hashPassword,
  verifyPassword,
  verifyPasswordOrDummy,
} from './password-hasher.js';

const { memoryCost, timeCost, parallelism } = PASSWORD_HASH_OPTIONS;
const phcParameters = `$argon2id$v=19$m=${memoryCost},t=${timeCost},p=${parallelism}$`;

describe('password hashing', () => {
  it('hashes with argon2id at OWASP parameters and a fresh salt', async () => {
    const first = await hashPassword('correct horse battery staple');
    const second = await hashPassword('correct horse battery staple');
    expect(first.startsWith(phcParameters)).toBe(true);
    expect(first).not.toBe(second);
  });

  it('verifies the right password and rejects a wrong one', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('Correct horse battery staple', stored)).toBe(false);
  });

  it('answers false for a malformed stored hash instead of throwing', async () => {
    expect(await verifyPassword('anything', 'not-a-hash')).toBe(false);
  });

  it('verifyPasswordOrDummy is false for a missing user, and uses the same parameters as real hashes', async () => {
    expect(await verifyPasswordOrDummy('anything', undefined)).toBe(false);
    expect(await verifyPasswordOrDummy('anything', null)).toBe(false);
    expect(DUMMY_PASSWORD_HASH.startsWith(phcParameters)).toBe(true);
    const stored = await hashPassword('s3cret-pass');
    expect(await verifyPasswordOrDummy('s3cret-pass', stored)).toBe(true);
  });
});
