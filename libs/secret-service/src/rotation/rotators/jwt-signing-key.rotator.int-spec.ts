import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SecretEventType, SecretType } from '@llmops/contracts';
import { calculateJwkThumbprint, createLocalJWKSet, errors, jwtVerify, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import { openRotationTestBed, TEST_ADMIN, type RotationTestBed } from '../testing/rotation-test-bed.js';
import { JwtSigningKeyRotator } from './jwt-signing-key.rotator.js';

const ENVIRONMENT = 'production';
const GRACE_SECONDS = 3600;

interface SigningKeyValue {
  algorithm: string;
  private_key?: string;
  secret?: string;
  kid?: string;
}

describe(JwtSigningKeyRotator.name, () => {
  let bed: RotationTestBed;

  beforeAll(async () => {
    bed = await openRotationTestBed('jwt_rotation');
  });

  afterAll(async () => {
    await bed?.close();
  });

  const reveal = async (path: string): Promise<SigningKeyValue> =>
    JSON.parse((await bed.secrets.get(TEST_ADMIN, { path, environment: ENVIRONMENT, reveal: true })).value) as SigningKeyValue;
  const jwks = async (path: string): Promise<JSONWebKeySet> => (await bed.secrets.jwks({ path, environment: ENVIRONMENT })) as JSONWebKeySet;
  const sign = (algorithm: string, key: KeyObject, kid: string): Promise<string> =>
    new SignJWT({ sub: 'user-1' }).setProtectedHeader({ alg: algorithm, kid }).setIssuedAt().setExpirationTime('2h').sign(key);
  /** How a relying party checks a token: against the JWKS it fetched. */
  const verifiesAgainst = async (token: string, keySet: JSONWebKeySet): Promise<boolean> => {
    try {
      await jwtVerify(token, createLocalJWKSet(keySet));
      return true;
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) return false;
      throw error;
    }
  };

  const cases: Array<{ algorithm: string; generate: () => KeyObject; expectKey: (key: KeyObject) => void }> = [
    {
      algorithm: 'RS256',
      generate: () => generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey,
      expectKey: (key) => expect(key.asymmetricKeyDetails?.modulusLength).toBe(3072),
    },
    {
      algorithm: 'EdDSA',
      generate: () => generateKeyPairSync('ed25519').privateKey,
      expectKey: (key) => expect(key.asymmetricKeyType).toBe('ed25519'),
    },
  ];

  it.each(cases)('rotates an $algorithm key pair, publishing both keys during the overlap, only the new one after', async (testCase) => {
    const { algorithm, generate, expectKey } = testCase;
    const path = `acme/auth/${algorithm.toLowerCase()}`;
    const oldKey = generate();
    await bed.secrets.set(TEST_ADMIN, {
      path,
      environment: ENVIRONMENT,
      type: SecretType.JWT_SIGNING_KEY,
      value: JSON.stringify({ algorithm, private_key: oldKey.export({ format: 'pem', type: 'pkcs8' }), kid: 'before-rotation' }),
      gracePeriodSeconds: GRACE_SECONDS,
    });
    const oldToken = await sign(algorithm, oldKey, 'before-rotation');

    const rotated = await bed.rotation.rotate(TEST_ADMIN, { path, environment: ENVIRONMENT });
    const current = await reveal(path);
    const newKey = createPrivateKey(current.private_key!);
    expect(current.algorithm).toBe(algorithm);
    expect(current.private_key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expectKey(newKey);
    const during = await jwks(path);
    expect(during.keys.map((key) => key.kid)).toEqual([current.kid, 'before-rotation']);
    expect(current.kid).toBe(await calculateJwkThumbprint(during.keys[0] as JWK, 'sha256'));
    expect(rotated.version.facts).toMatchObject({ algorithm, kid: current.kid });

    const newToken = await sign(algorithm, newKey, current.kid!);
    expect(await verifiesAgainst(oldToken, during)).toBe(true);
    expect(await verifiesAgainst(newToken, during)).toBe(true);

    expect(await bed.rotation.revokeEndedOverlaps(TEST_ADMIN, new Date(Date.now() + (GRACE_SECONDS + 1) * 1000))).toBe(1);
    const after = await jwks(path);
    expect(after.keys.map((key) => key.kid)).toEqual([current.kid]);
    expect(await verifiesAgainst(oldToken, after)).toBe(false);
    expect(await verifiesAgainst(newToken, after)).toBe(true);
    const revoked = (await bed.events(SecretEventType.PreviousVersionRevoked)).at(-1)!;
    expect(revoked.payload).toMatchObject({ path, version: 1, rotator: 'jwt-signing-key' });
  });

  it('rotates an HS256 secret to a new random one that is never published', async () => {
    const path = 'acme/auth/hs256';
    const previous = 'an-hmac-secret-of-at-least-32-bytes-0123456789';
    const value = JSON.stringify({ algorithm: 'HS256', secret: previous });
    await bed.secrets.set(TEST_ADMIN, { path, environment: ENVIRONMENT, type: SecretType.JWT_SIGNING_KEY, value });
    await bed.rotation.rotate(TEST_ADMIN, { path, environment: ENVIRONMENT });
    const current = await reveal(path);
    expect(current.algorithm).toBe('HS256');
    expect(current.secret).not.toBe(previous);
    expect(Buffer.byteLength(current.secret!)).toBeGreaterThanOrEqual(32);
    expect((await jwks(path)).keys).toEqual([]);
  });

  it('never writes key material into an event', async () => {
    const envelopes = await bed.rawEvents();
    expect(envelopes.length).toBeGreaterThan(5);
    for (const envelope of envelopes) {
      expect(envelope.includes(Buffer.from('PRIVATE KEY'))).toBe(false);
      expect(envelope.includes(Buffer.from('an-hmac-secret'))).toBe(false);
    }
  });
});
