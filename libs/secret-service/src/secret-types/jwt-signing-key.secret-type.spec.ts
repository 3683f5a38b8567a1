import { beforeAll, describe, expect, it } from '@jest/globals';
import { SecretType } from '@llmops/contracts';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { expectInvalidValue, leakedPart } from './testing/expect-invalid-value.js';
import { maskSecretValue, parseSecretValue } from './secret-value.js';

const HS256_SECRET = 'q8Zt3vLm0xWc7RbN4yKd9HsJ2fGp6TaE';
const keyBody = (pem: string): string => pem.trim().split('\n').slice(1, -1).join('');
const pkcs8Pem = (key: KeyObject): string => key.export({ format: 'pem', type: 'pkcs8' }).toString();

let rsa2048: string;
let rsa1024: string;
let p256: string;
let p384: string;
let ed25519: string;
let ed448: string;

beforeAll(() => {
  rsa2048 = pkcs8Pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  rsa1024 = pkcs8Pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
  p256 = pkcs8Pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  p384 = pkcs8Pem(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey);
  ed25519 = pkcs8Pem(generateKeyPairSync('ed25519').privateKey);
  ed448 = pkcs8Pem(generateKeyPairSync('ed448').privateKey);
});

function parseJwtKey(fields: Record<string, unknown>): ReturnType<typeof parseSecretValue> {
  return parseSecretValue(SecretType.JWT_SIGNING_KEY, JSON.stringify(fields));
}

describe('JWT_SIGNING_KEY secrets', () => {
  it.each([
    ['RS256', () => rsa2048, 'rsa', 'RSA'],
    ['RS512', () => rsa2048, 'rsa', 'RSA'],
    ['ES256', () => p256, 'ec', 'EC'],
    ['ES384', () => p384, 'ec', 'EC'],
    ['EdDSA', () => ed25519, 'ed25519', 'OKP'],
  ])('accepts %s with a suitable key and shows its public JWK', (algorithm, privateKey, keyType, kty) => {
    const { facts } = parseJwtKey({ algorithm, private_key: privateKey(), kid: 'signing-2025-01' });

    expect(facts).toMatchObject({ algorithm, kid: 'signing-2025-01', key_type: keyType });
    const jwk = JSON.parse(facts['public_jwk'] as string) as Record<string, string>;
    expect(jwk).toMatchObject({ kty, alg: algorithm, use: 'sig', kid: 'signing-2025-01' });
    expect(jwk).not.toHaveProperty('d');
  });

  it('stores the private key PEM trimmed', () => {
    expect(JSON.parse(parseJwtKey({ algorithm: 'ES256', private_key: `\n${p256}\n` }).value)).toEqual({
      algorithm: 'ES256',
      private_key: p256.trim(),
    });
  });

  it.each([
    ['RS256', () => rsa1024, 'an RSA key of at least 2048 bits'],
    ['RS256', () => p256, 'an RSA key of at least 2048 bits'],
    ['ES256', () => p384, 'an EC key on P-256'],
    ['ES384', () => p256, 'an EC key on P-384'],
    ['EdDSA', () => ed448, 'an Ed25519 key'],
  ])('refuses %s with an unsuitable key, saying what it needs', (algorithm, privateKey, needs) => {
    const message = expectInvalidValue(() => parseJwtKey({ algorithm, private_key: privateKey() }), 'value.private_key', [keyBody(privateKey())]);

    expect(message).toBe(`value.private_key does not suit ${algorithm}, which needs ${needs}`);
  });

  it('refuses a private key that does not parse and requires one for asymmetric algorithms', () => {
    expectInvalidValue(() => parseJwtKey({ algorithm: 'RS256', private_key: 'not-a-pem-but-secret' }), 'value.private_key', [
      'not-a-pem-but-secret',
    ]);
    expectInvalidValue(() => parseJwtKey({ algorithm: 'RS256' }), 'value.private_key');
  });

  it('accepts HS256 with a secret of at least 32 bytes and shows no key material', () => {
    const parsed = parseJwtKey({ algorithm: 'HS256', secret: HS256_SECRET, kid: 'hmac-1' });

    expect(parsed.facts).toEqual({ algorithm: 'HS256', kid: 'hmac-1' });
    expect(JSON.parse(parsed.value)).toEqual({ algorithm: 'HS256', secret: HS256_SECRET, kid: 'hmac-1' });
  });

  it('refuses an HS256 secret shorter than 32 bytes without quoting it', () => {
    const message = expectInvalidValue(() => parseJwtKey({ algorithm: 'HS256', secret: HS256_SECRET.slice(1) }), 'value.secret', [
      HS256_SECRET.slice(1),
    ]);

    expect(message).toBe('value.secret must be at least 32 bytes for HS256');
  });

  it('refuses key material of the wrong kind for the algorithm', () => {
    expectInvalidValue(() => parseJwtKey({ algorithm: 'HS256', private_key: p256, secret: HS256_SECRET }), 'value.private_key');
    expectInvalidValue(() => parseJwtKey({ algorithm: 'RS256', private_key: rsa2048, secret: HS256_SECRET }), 'value.secret', [HS256_SECRET]);
  });

  it('refuses an algorithm not on the list, naming the allowed ones', () => {
    const message = expectInvalidValue(() => parseJwtKey({ algorithm: 'none', secret: HS256_SECRET }), 'value.algorithm');

    expect(message).toBe('value.algorithm must be one of: RS256, RS384, RS512, ES256, ES384, EdDSA, HS256');
  });

  it('masks the private key or secret and keeps algorithm and kid', () => {
    const maskedHmac = maskSecretValue(SecretType.JWT_SIGNING_KEY, parseJwtKey({ algorithm: 'HS256', secret: HS256_SECRET, kid: 'k1' }).value);
    const maskedRsa = maskSecretValue(SecretType.JWT_SIGNING_KEY, parseJwtKey({ algorithm: 'RS256', private_key: rsa2048 }).value);

    expect(JSON.parse(maskedHmac)).toEqual({ algorithm: 'HS256', kid: 'k1', secret: 'q8Z…6TaE' });
    expect(JSON.parse(maskedRsa)).toEqual({ algorithm: 'RS256', private_key: '---…----' });
    expect(leakedPart(maskedHmac, HS256_SECRET.slice(3, -4))).toBeUndefined();
  });
});
