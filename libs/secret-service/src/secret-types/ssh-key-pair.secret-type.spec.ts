import { describe, expect, it } from '@jest/globals';
import { SecretType } from '@llmops/contracts';
import { readFixture } from './testing/fixtures.js';
import { expectInvalidValue, leakedPart } from './testing/expect-invalid-value.js';
import { maskSecretValue, parseSecretValue } from './secret-value.js';

const ed25519PrivateKey = readFixture('ssh-ed25519.key');
const ed25519PublicKey = readFixture('ssh-ed25519.pub').trim();
const rsaPemPrivateKey = readFixture('ssh-rsa-pem.key');
const rsaPemPublicKey = readFixture('ssh-rsa-pem.pub').trim();
const keyBody = (pem: string): string => pem.trim().split('\n').slice(1, -1).join('');

function parseSsh(fields: Record<string, unknown>): ReturnType<typeof parseSecretValue> {
  return parseSecretValue(SecretType.SSH_KEY_PAIR, JSON.stringify(fields));
}

describe('SSH_KEY_PAIR secrets', () => {
  it('accepts an OpenSSH private key alone and derives its public key as a fact', () => {
    const parsed = parseSsh({ private_key: ed25519PrivateKey });

    expect(parsed.facts).toEqual({
      key_type: 'ed25519',
      key_bits: 256,
      // What `ssh-keygen -lf ssh-ed25519.pub` prints.
      fingerprint_sha256: 'SHA256:jsvnHcZg7UbMgsm9FL14OqIZWuDNnD1WB3DIpU1dAMw',
      public_key: ed25519PublicKey,
    });
    expect(JSON.parse(parsed.value)).toEqual({ private_key: ed25519PrivateKey.trim() });
  });

  it('accepts a PEM private key with its matching authorized_keys line', () => {
    const parsed = parseSsh({ private_key: rsaPemPrivateKey, public_key: `${rsaPemPublicKey}\n` });

    expect(parsed.facts).toEqual({
      key_type: 'rsa',
      key_bits: 2048,
      fingerprint_sha256: 'SHA256:RR73aZu5EhkL7wa4RSOlHABXJKLLEAB2voTb0Hj5FqE',
      public_key: rsaPemPublicKey,
    });
    expect(JSON.parse(parsed.value)).toEqual({ private_key: rsaPemPrivateKey.trim(), public_key: rsaPemPublicKey });
  });

  it('derives a public key without a comment when the private key has none', () => {
    const [algorithm, encoded] = rsaPemPublicKey.split(' ');

    expect(parseSsh({ private_key: rsaPemPrivateKey }).facts['public_key']).toBe(`${algorithm} ${encoded}`);
  });

  it('refuses a public key that belongs to another private key', () => {
    const message = expectInvalidValue(
      () => parseSsh({ private_key: ed25519PrivateKey, public_key: readFixture('ssh-other.pub') }),
      'value.public_key',
      [keyBody(ed25519PrivateKey)],
    );

    expect(message).toBe('value.public_key does not match value.private_key');
  });

  it('refuses a public key that does not parse or spans lines', () => {
    expectInvalidValue(() => parseSsh({ private_key: ed25519PrivateKey, public_key: 'ssh-ed25519 AAAAnotakey' }), 'value.public_key');
    expectInvalidValue(
      () => parseSsh({ private_key: ed25519PrivateKey, public_key: `${ed25519PublicKey}\n${ed25519PublicKey}` }),
      'value.public_key',
    );
  });

  it('refuses a private key that does not parse, without quoting it', () => {
    const garbage = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAGarbageGarbage\n-----END OPENSSH PRIVATE KEY-----';

    const message = expectInvalidValue(() => parseSsh({ private_key: garbage }), 'value.private_key', [keyBody(garbage)]);

    expect(message).toBe('value.private_key is not an OpenSSH or PEM private key that parses');
  });

  it('refuses a public key given as the private key', () => {
    expectInvalidValue(() => parseSsh({ private_key: ed25519PublicKey }), 'value.private_key');
  });

  it('refuses a passphrase-protected private key', () => {
    const encrypted = readFixture('ssh-encrypted.key');

    const message = expectInvalidValue(() => parseSsh({ private_key: encrypted }), 'value.private_key', [keyBody(encrypted)]);

    expect(message).toBe('value.private_key is encrypted; store the key without a passphrase');
  });

  it('requires private_key and refuses unknown fields', () => {
    expectInvalidValue(() => parseSsh({ public_key: ed25519PublicKey }), 'value.private_key');
    expectInvalidValue(() => parseSsh({ private_key: ed25519PrivateKey, passphrase: 'hunter2-hunter2' }), 'value.passphrase', ['hunter2-hunter2']);
  });

  it('masks the private key and keeps the public key', () => {
    const stored = parseSsh({ private_key: ed25519PrivateKey, public_key: ed25519PublicKey }).value;

    const fields = JSON.parse(maskSecretValue(SecretType.SSH_KEY_PAIR, stored)) as Record<string, string>;

    expect(fields).toEqual({ private_key: '---…----', public_key: ed25519PublicKey });
    // An OpenSSH private key embeds its public key, so only the masked field is checked for key material.
    expect(leakedPart(fields['private_key'] as string, keyBody(ed25519PrivateKey))).toBeUndefined();
  });
});
