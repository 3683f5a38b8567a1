import { SecretException } from '../exceptions/secret.exception.js';

/** The SecretException a call fails with; anything else, or success, fails the test. */
export async function failureOf(promise: Promise<unknown>): Promise<SecretException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SecretException) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}
