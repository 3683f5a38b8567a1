import { createPublicKey, type KeyObject } from 'node:crypto';
import { canonicalJson, JsonObjectReader, parseJsonObject, type JsonObject } from './json-object-reader.js';
import { normalisePem, parsePrivateKeyPem } from './pem.js';
import { invalidValue, type SecretTypeDefinition } from './secret-type-definition.js';

export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'EdDSA', 'HS256'] as const;
type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
type AsymmetricJwtAlgorithm = Exclude<JwtAlgorithm, 'HS256'>;

/** RFC 7518 §3.2: an HMAC key must be at least as long as the hash output. */
const HS256_MIN_SECRET_BYTES = 32;
/** RFC 7518 §3.3. */
const RSA_MIN_MODULUS_BITS = 2048;

interface KeyRequirement {
  describe: string;
  isMet(key: KeyObject): boolean;
}

const rsaRequirement: KeyRequirement = {
  describe: `an RSA key of at least ${RSA_MIN_MODULUS_BITS} bits`,
  isMet: (key) => key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= RSA_MIN_MODULUS_BITS,
};

const KEY_REQUIREMENTS: Record<AsymmetricJwtAlgorithm, KeyRequirement> = {
  RS256: rsaRequirement,
  RS384: rsaRequirement,
  RS512: rsaRequirement,
  ES256: { describe: 'an EC key on P-256', isMet: (key) => isEcKeyOn(key, 'prime256v1') },
  ES384: { describe: 'an EC key on P-384', isMet: (key) => isEcKeyOn(key, 'secp384r1') },
  EdDSA: { describe: 'an Ed25519 key', isMet: (key) => key.asymmetricKeyType === 'ed25519' },
};

export const jwtSigningKeySecretType: SecretTypeDefinition = {
  parse(value) {
    const reader = new JsonObjectReader(parseJsonObject(value, '{algorithm, private_key | secret, kid?}'));
    reader.assertKnownFields(['algorithm', 'private_key', 'secret', 'kid']);
    const algorithm = reader.requiredOneOf('algorithm', JWT_ALGORITHMS);
    const kid = reader.optionalString('kid', { noWhitespace: true });

    const stored: JsonObject = { algorithm };
    const facts: Record<string, string | number> = { algorithm };
    if (kid !== undefined) stored['kid'] = facts['kid'] = kid;

    if (algorithm === 'HS256') {
      refuseField(reader, 'private_key', `is not used with ${algorithm}; give value.secret`);
      const secretField = reader.path('secret');
      const secret = reader.requiredString('secret');
      if (Buffer.byteLength(secret, 'utf8') < HS256_MIN_SECRET_BYTES) {
        throw invalidValue(secretField, `${secretField} must be at least ${HS256_MIN_SECRET_BYTES} bytes for ${algorithm}`);
      }
      stored['secret'] = secret;
      return { value: canonicalJson(stored), facts };
    }

    refuseField(reader, 'secret', `is only used with HS256; give value.private_key for ${algorithm}`);
    const privateKeyField = reader.path('private_key');
    const privateKeyPem = reader.requiredString('private_key');
    const privateKey = parsePrivateKeyPem(privateKeyPem, privateKeyField);
    const requirement = KEY_REQUIREMENTS[algorithm];
    if (!requirement.isMet(privateKey)) {
      throw invalidValue(privateKeyField, `${privateKeyField} does not suit ${algorithm}, which needs ${requirement.describe}`);
    }
    stored['private_key'] = normalisePem(privateKeyPem);
    facts['key_type'] = privateKey.asymmetricKeyType ?? 'unknown';
    facts['public_jwk'] = publicJwk(privateKey, algorithm, kid);
    return { value: canonicalJson(stored), facts };
  },
  maskPlan: { algorithm: 'keep', kid: 'keep' },
};

function isEcKeyOn(key: KeyObject, namedCurve: string): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === namedCurve;
}

function refuseField(reader: JsonObjectReader, field: string, reason: string): void {
  if (reader.has(field)) {
    throw invalidValue(reader.path(field), `${reader.path(field)} ${reason}`);
  }
}

/** The verification key as a JWK (RFC 7517), ready for a JWKS endpoint. */
function publicJwk(privateKey: KeyObject, algorithm: AsymmetricJwtAlgorithm, kid: string | undefined): string {
  const jwk: JsonObject = { ...(createPublicKey(privateKey).export({ format: 'jwk' }) as JsonObject), alg: algorithm, use: 'sig' };
  if (kid !== undefined) jwk['kid'] = kid;
  return canonicalJson(jwk);
}
