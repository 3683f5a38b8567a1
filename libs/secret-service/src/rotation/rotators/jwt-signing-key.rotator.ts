import { createPrivateKey, createPublicKey, generateKeyPair as generateKeyPairCallback, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { SecretType } from '@llmops/contracts';
import { calculateJwkThumbprint, jwtVerify, SignJWT, type JWK } from 'jose';
import type { SecretRecord } from '../../secrets/secret-records.js';
import type { SecretRotator } from '../secret-rotator.js';

const generateKeyPair = promisify(generateKeyPairCallback);

/** A jwt_signing_key value (see secret-types/README.md). */
interface JwtSigningKey {
  algorithm: string;
  private_key?: string;
  secret?: string;
  kid?: string;
}

/** RFC 7518 §3.3. */
const RSA_MIN_MODULUS_BITS = 2048;
/** Above RFC 7518's 32-byte minimum for HS256. */
const HMAC_SECRET_BYTES = 48;
const EC_CURVES: Readonly<Record<string, string>> = { ES256: 'prime256v1', ES384: 'secp384r1' };

/**
 * Rotates JWT signing keys: a new key pair of the same algorithm and size (HS256: a new random secret), with the RFC
 * 7638 thumbprint as its `kid`. Verifiers find both keys in the secret's JWKS during the overlap, so tokens signed
 * with the previous key stay valid until they expire or the overlap ends; revocation is the JWKS dropping it.
 */
export class JwtSigningKeyRotator implements SecretRotator {
  readonly name = 'jwt-signing-key';

  supports(secret: SecretRecord, current: string): boolean {
    return secret.type === SecretType.JWT_SIGNING_KEY && signingKeyOf(current) !== undefined;
  }

  async generate(current: string): Promise<string> {
    const { algorithm, private_key: privateKeyPem } = signingKeyOf(current)!;
    if (algorithm === 'HS256') {
      const secret = randomBytes(HMAC_SECRET_BYTES);
      try {
        // HS256 keys are never published, so the kid is random rather than derived from the secret.
        return JSON.stringify({ algorithm, secret: secret.toString('base64url'), kid: randomBytes(16).toString('base64url') });
      } finally {
        secret.fill(0);
      }
    }
    const privateKey = await newPrivateKeyLike(algorithm, createPrivateKey(privateKeyPem!));
    const kid = await calculateJwkThumbprint(createPublicKey(privateKey).export({ format: 'jwk' }) as JWK, 'sha256');
    return JSON.stringify({ algorithm, private_key: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, kid });
  }

  /** Signs a short-lived probe token with the new key and verifies it, as a relying party would. */
  async test(candidate: string): Promise<void> {
    const { algorithm, private_key: privateKeyPem, secret, kid } = signingKeyOf(candidate)!;
    const signingKey = algorithm === 'HS256' ? Buffer.from(secret!, 'utf8') : createPrivateKey(privateKeyPem!);
    const verificationKey = signingKey instanceof Buffer ? signingKey : createPublicKey(signingKey);
    const probe = await new SignJWT({ purpose: 'rotation-probe' })
      .setProtectedHeader({ alg: algorithm, ...(kid ? { kid } : {}) })
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(signingKey);
    const { protectedHeader } = await jwtVerify(probe, verificationKey, { algorithms: [algorithm] });
    if (protectedHeader.kid !== kid) throw new Error('the probe token lost its kid');
  }

  async revoke(): Promise<void> {
    // The JWKS lists only the current version and those still in their overlap; revoked_at removes the old key.
  }
}

async function newPrivateKeyLike(algorithm: string, current: KeyObject): Promise<KeyObject> {
  if (algorithm.startsWith('RS')) {
    const modulusLength = Math.max(RSA_MIN_MODULUS_BITS, current.asymmetricKeyDetails?.modulusLength ?? 0);
    return (await generateKeyPair('rsa', { modulusLength, publicExponent: 0x10001 })).privateKey;
  }
  const namedCurve = EC_CURVES[algorithm];
  if (namedCurve) return (await generateKeyPair('ec', { namedCurve })).privateKey;
  if (algorithm === 'EdDSA') return (await generateKeyPair('ed25519')).privateKey;
  throw new Error('unsupported JWT algorithm');
}

function signingKeyOf(value: string): JwtSigningKey | undefined {
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed && typeof parsed === 'object' && typeof (parsed as JwtSigningKey).algorithm === 'string' ? (parsed as JwtSigningKey) : undefined;
  } catch {
    return undefined;
  }
}
