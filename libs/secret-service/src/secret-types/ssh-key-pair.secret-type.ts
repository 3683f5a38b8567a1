import sshpk from 'sshpk';
import { canonicalJson, JsonObjectReader, parseJsonObject, type JsonObject } from './json-object-reader.js';
import { invalidValue, type SecretTypeDefinition } from './secret-type-definition.js';

/** sshpk's placeholder when a key has no comment; it is not worth showing. */
const SSHPK_NO_COMMENT = '(unnamed)';

export const sshKeyPairSecretType: SecretTypeDefinition = {
  parse(value) {
    const reader = new JsonObjectReader(parseJsonObject(value, '{private_key, public_key?}'));
    reader.assertKnownFields(['private_key', 'public_key']);
    const privateKeyText = reader.requiredString('private_key').trim();
    const privateKey = parseSshPrivateKey(privateKeyText, reader.path('private_key'));
    const fingerprint = privateKey.fingerprint('sha256').toString();

    const publicKeyText = reader.optionalString('public_key')?.trim();
    if (publicKeyText !== undefined) {
      const publicKeyField = reader.path('public_key');
      if (publicKeyText.includes('\n')) {
        throw invalidValue(publicKeyField, `${publicKeyField} must be a single authorized_keys line`);
      }
      if (parseSshPublicKey(publicKeyText, publicKeyField).fingerprint('sha256').toString() !== fingerprint) {
        throw invalidValue(publicKeyField, `${publicKeyField} does not match value.private_key`);
      }
    }

    const stored: JsonObject = { private_key: privateKeyText };
    if (publicKeyText !== undefined) stored['public_key'] = publicKeyText;
    return {
      value: canonicalJson(stored),
      facts: {
        key_type: privateKey.type,
        key_bits: privateKey.size,
        fingerprint_sha256: fingerprint,
        public_key: publicKeyText ?? authorizedKeysLine(privateKey),
      },
    };
  },
  maskPlan: { public_key: 'keep' },
};

function parseSshPrivateKey(text: string, field: string): sshpk.PrivateKey {
  try {
    return sshpk.parsePrivateKey(text, 'auto');
  } catch (error) {
    if (error instanceof Error && error.name === 'KeyEncryptedError') {
      throw invalidValue(field, `${field} is encrypted; store the key without a passphrase`);
    }
    throw invalidValue(field, `${field} is not an OpenSSH or PEM private key that parses`);
  }
}

function parseSshPublicKey(text: string, field: string): sshpk.Key {
  try {
    return sshpk.parseKey(text, 'ssh');
  } catch {
    throw invalidValue(field, `${field} is not an authorized_keys line that parses (e.g. "ssh-ed25519 AAAA… comment")`);
  }
}

function authorizedKeysLine(privateKey: sshpk.PrivateKey): string {
  const [algorithm, encodedKey] = privateKey.toPublic().toString('ssh').split(' ');
  const comment = privateKey.comment;
  return comment === undefined || comment === SSHPK_NO_COMMENT
    ? `${algorithm} ${encodedKey}`
    : `${algorithm} ${encodedKey} ${comment}`;
}
