import { expect } from '@jest/globals';
import { SecretException, SecretExceptionCode } from '../../secrets/exceptions/secret.exception.js';

/** No run of this many characters of a secret may appear in an error message. */
const LEAK_WINDOW = 6;

/**
 * Runs `action`, expects an `InvalidValue` SecretException naming `field`, and checks its message carries no
 * part of any of `secrets`. Returns the message for further assertions.
 */
export function expectInvalidValue(action: () => unknown, field: string, secrets: readonly string[] = []): string {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(SecretException);
  const exception = thrown as SecretException;
  expect({ code: exception.code, field: exception.field }).toEqual({ code: SecretExceptionCode.InvalidValue, field });
  expect(exception.message).toContain(field);
  for (const secret of secrets) {
    expect(leakedPart(exception.message, secret)).toBeUndefined();
  }
  return exception.message;
}

/** The first part of `secret` found in `text`, if any. */
export function leakedPart(text: string, secret: string): string | undefined {
  const compact = secret.trim();
  if (compact.length < LEAK_WINDOW) {
    return text.includes(compact) ? compact : undefined;
  }
  for (let start = 0; start + LEAK_WINDOW <= compact.length; start++) {
    const window = compact.slice(start, start + LEAK_WINDOW);
    if (text.includes(window)) {
      return window;
    }
  }
  return undefined;
}
