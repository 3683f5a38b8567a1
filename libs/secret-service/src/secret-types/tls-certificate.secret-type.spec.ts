import { describe, expect, it } from '@jest/globals';
import { SecretType } from '@llmops/contracts';
import { createPrivateKey } from 'node:crypto';
import { readFixture } from './testing/fixtures.js';
import { expectInvalidValue, leakedPart } from './testing/expect-invalid-value.js';
import { maskSecretValue, parseSecretValue } from './secret-value.js';

const certificate = readFixture('tls-self-signed.crt.pem');
const privateKey = readFixture('tls-self-signed.key.pem');
const unrelatedKey = readFixture('tls-unrelated.key.pem');
/** The base64 body of a key: the part that must never leak. */
const keyBody = (pem: string): string => pem.split('\n').slice(1, -2).join('');

function parseTls(fields: Record<string, unknown>): ReturnType<typeof parseSecretValue> {
  return parseSecretValue(SecretType.TLS_CERTIFICATE, JSON.stringify(fields));
}

describe('TLS_CERTIFICATE secrets', () => {
  it('accepts a certificate with its key and shows the certificate facts', () => {
    const { facts } = parseTls({ certificate, private_key: privateKey });

    expect(facts).toEqual({
      subject: 'O=LLMOps Test, CN=api.example.test',
      issuer: 'O=LLMOps Test, CN=api.example.test',
      serial: expect.stringMatching(/^[0-9A-F]+$/),
      not_before: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/),
      not_after: expect.stringMatching(/^21\d\d-/),
      fingerprint_sha256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
      subject_alt_names: 'DNS:api.example.test, DNS:www.example.test',
      key_algorithm: 'rsa',
      chain_length: 1,
      expired: false,
    });
  });

  it('stores the PEMs trimmed, with LF line endings and without text around the blocks', () => {
    const withNoise = `subject=/CN=api.example.test\r\n${certificate.replace(/\n/g, '\r\n')}\r\n\r\n`;

    const stored = JSON.parse(parseTls({ certificate: withNoise, private_key: `\n${privateKey}\n\n` }).value) as Record<string, string>;

    expect(stored).toEqual({ certificate: certificate.trim(), private_key: privateKey.trim() });
  });

  it('accepts a leaf followed by the certificate that issued it', () => {
    const chain = `${readFixture('tls-leaf.crt.pem')}${readFixture('tls-ca.crt.pem')}`;

    const { facts } = parseTls({ certificate: chain, private_key: readFixture('tls-leaf.key.pem') });

    expect(facts).toMatchObject({ subject: 'CN=leaf.example.test', issuer: 'CN=LLMOps Test CA', chain_length: 2, key_algorithm: 'ec' });
  });

  it('refuses a chain whose second certificate did not issue the first', () => {
    const reversed = `${readFixture('tls-ca.crt.pem')}${readFixture('tls-leaf.crt.pem')}`;

    const message = expectInvalidValue(
      () => parseTls({ certificate: reversed, private_key: readFixture('tls-leaf.key.pem') }),
      'value.certificate',
    );

    expect(message).toContain('certificate 2 of the chain did not issue certificate 1');
  });

  it('accepts an expired certificate and flags it, so a renewal can be stored beside it', () => {
    const { facts } = parseTls({ certificate: readFixture('tls-expired.crt.pem'), private_key: readFixture('tls-expired.key.pem') });

    expect(facts).toMatchObject({
      expired: true,
      not_before: '2020-01-01T00:00:00.000Z',
      not_after: '2021-01-01T00:00:00.000Z',
      key_algorithm: 'ed25519',
    });
    expect(facts).not.toHaveProperty('subject_alt_names');
  });

  it('refuses a PEM certificate that does not parse, saying so', () => {
    const message = expectInvalidValue(
      () => parseTls({ certificate: readFixture('tls-garbage.pem'), private_key: privateKey }),
      'value.certificate',
      [keyBody(privateKey)],
    );

    expect(message).toBe('value.certificate is not a PEM certificate that parses');
  });

  it('refuses a certificate field without PEM certificate blocks', () => {
    const message = expectInvalidValue(() => parseTls({ certificate: 'hello', private_key: privateKey }), 'value.certificate');

    expect(message).toBe('value.certificate is not a PEM certificate (expected one or more CERTIFICATE blocks)');
  });

  it('refuses a private key pasted into the certificate field without quoting it', () => {
    expectInvalidValue(() => parseTls({ certificate: privateKey, private_key: privateKey }), 'value.certificate', [keyBody(privateKey)]);
  });

  it("refuses a key that does not match the certificate's public key", () => {
    const message = expectInvalidValue(
      () => parseTls({ certificate, private_key: unrelatedKey }),
      'value.private_key',
      [keyBody(unrelatedKey)],
    );

    expect(message).toBe("value.private_key does not match the certificate's public key");
  });

  it('refuses a private key that does not parse, without quoting it', () => {
    const broken = privateKey.replace(/^(-----BEGIN PRIVATE KEY-----\n)MII/, '$1AAA');

    const message = expectInvalidValue(() => parseTls({ certificate, private_key: broken }), 'value.private_key', [keyBody(broken)]);

    expect(message).toBe('value.private_key is not a PEM private key that parses');
  });

  it('refuses a private key that is not PEM', () => {
    expectInvalidValue(() => parseTls({ certificate, private_key: 'just-some-secret-text' }), 'value.private_key', ['just-some-secret-text']);
    expectInvalidValue(() => parseTls({ certificate, private_key: certificate }), 'value.private_key');
  });

  it('refuses an encrypted private key', () => {
    const encrypted = createPrivateKey(privateKey)
      .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'correct horse' })
      .toString();

    const message = expectInvalidValue(() => parseTls({ certificate, private_key: encrypted }), 'value.private_key', [keyBody(encrypted)]);

    expect(message).toBe('value.private_key is encrypted; store the key without a passphrase');
  });

  it.each(['certificate', 'private_key'])('requires %s', (field) => {
    const fields: Record<string, unknown> = { certificate, private_key: privateKey };
    delete fields[field];

    expectInvalidValue(() => parseTls(fields), `value.${field}`);
  });

  it('masks the private key and keeps the certificate', () => {
    const masked = maskSecretValue(SecretType.TLS_CERTIFICATE, parseTls({ certificate, private_key: privateKey }).value);

    const fields = JSON.parse(masked) as Record<string, string>;
    expect(fields['certificate']).toBe(certificate.trim());
    // The hint of a PEM is its dashes; the certificate shares ASN.1 prefixes with the key, so only this field is checked.
    expect(fields['private_key']).toBe('---…----');
    expect(leakedPart(fields['private_key'] as string, keyBody(privateKey))).toBeUndefined();
  });
});
