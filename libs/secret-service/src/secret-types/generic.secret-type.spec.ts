import { describe, expect, it } from '@jest/globals';
import { SecretType } from '@llmops/contracts';
import { expectInvalidValue } from './testing/expect-invalid-value.js';
import { maskSecretValue, parseSecretValue } from './secret-value.js';

describe('GENERIC secrets', () => {
  it('stores any non-empty string exactly as given, with no facts', () => {
    const value = '  multi\nline opaque blob \u00e9 ';

    expect(parseSecretValue(SecretType.GENERIC, value)).toEqual({ value, facts: {} });
  });

  it('refuses an empty string', () => {
    expectInvalidValue(() => parseSecretValue(SecretType.GENERIC, ''), 'value');
  });

  it('masks as a whole, without a hint or the length', () => {
    expect(maskSecretValue(SecretType.GENERIC, 'a-very-long-opaque-secret-value-0123456789')).toBe('********');
    expect(maskSecretValue(SecretType.GENERIC, 'x')).toBe('********');
  });
});
