import { describe, expect, it } from '@jest/globals';
import { SecretType } from '@llmops/contracts';
import { SecretException, SecretExceptionCode } from '../secrets/exceptions/secret.exception.js';
import { expectInvalidValue } from './testing/expect-invalid-value.js';
import { MAX_SECRET_VALUE_BYTES, maskSecretValue, parseSecretValue } from './secret-value.js';

const STRUCTURED_TYPES = [
  SecretType.API_KEY,
  SecretType.DATABASE_CREDENTIALS,
  SecretType.TLS_CERTIFICATE,
  SecretType.SSH_KEY_PAIR,
  SecretType.OAUTH2_TOKEN,
  SecretType.JWT_SIGNING_KEY,
  SecretType.CLOUD_CREDENTIALS,
];

describe('parseSecretValue', () => {
  it('refuses an unspecified type with "type is required"', () => {
    const message = expectInvalidValue(() => parseSecretValue(SecretType.UNSPECIFIED, 'anything'), 'type');

    expect(message).toBe('type is required');
  });

  it('refuses a type number the proto does not define', () => {
    expectInvalidValue(() => parseSecretValue(99 as SecretType, 'anything'), 'type');
  });

  it.each([SecretType.GENERIC, SecretType.API_KEY])('refuses values over 64 KiB as too large (type %s), saying the limit', (type) => {
    const oversized = 'k'.repeat(MAX_SECRET_VALUE_BYTES + 1);

    expect(() => parseSecretValue(type, oversized)).toThrow(
      expect.objectContaining({ code: SecretExceptionCode.ValueTooLarge, field: 'value', message: expect.stringContaining('64 KiB') }),
    );
  });

  it('accepts a value of exactly 64 KiB', () => {
    expect(parseSecretValue(SecretType.GENERIC, 'k'.repeat(MAX_SECRET_VALUE_BYTES)).value).toHaveLength(MAX_SECRET_VALUE_BYTES);
  });

  it.each(STRUCTURED_TYPES)('refuses a non-JSON value for type %s without quoting it', (type) => {
    const notJson = '{"key": sk-live-ThisMustNeverAppearInAnError}';

    const message = expectInvalidValue(() => parseSecretValue(type, notJson), 'value', ['sk-live-ThisMustNeverAppearInAnError']);

    expect(message).toContain('not valid JSON');
  });

  it.each(STRUCTURED_TYPES)('refuses a JSON value that is not an object for type %s', (type) => {
    expectInvalidValue(() => parseSecretValue(type, '["a", "b"]'), 'value');
    expectInvalidValue(() => parseSecretValue(type, '"just a string"'), 'value');
  });

  it('throws SecretException instances, so transports can map them', () => {
    expect(() => parseSecretValue(SecretType.GENERIC, '')).toThrow(SecretException);
  });
});

describe('maskSecretValue', () => {
  it('masks values of an unspecified or unknown type as a whole', () => {
    expect(maskSecretValue(SecretType.UNSPECIFIED, '{"provider":"openai"}')).toBe('********');
    expect(maskSecretValue(99 as SecretType, '{"provider":"openai"}')).toBe('********');
  });

  it.each(STRUCTURED_TYPES)('masks a stored value it cannot read as a whole (type %s)', (type) => {
    expect(maskSecretValue(type, 'not json at all, maybe a secret')).toBe('********');
  });
});
