import { SecretException, SecretExceptionCode } from './exceptions/secret.exception.js';

/** Upper case is allowed (unlike config keys) because secrets are often named after the variables they feed. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const ENVIRONMENT = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const MAX_PATH_SEGMENTS = 16;
export const MAX_PATH_LENGTH = 512;

export interface SecretRef {
  path: string;
  environment: string;
}

/** Throws INVALID_PATH naming the first wrong segment of `path` (`folder` allows the empty top level). */
export function assertSecretPath(path: string, options: { folder?: boolean } = {}): void {
  if (options.folder && path === '') return;
  if (path.length === 0) throw new SecretException(SecretExceptionCode.InvalidPath, 'path is required', 'path');
  if (path.length > MAX_PATH_LENGTH) {
    throw new SecretException(SecretExceptionCode.InvalidPath, `path is ${path.length} characters; the limit is ${MAX_PATH_LENGTH}`, 'path');
  }
  const segments = path.split('/');
  if (segments.length > MAX_PATH_SEGMENTS) {
    throw new SecretException(SecretExceptionCode.InvalidPath, `path has ${segments.length} segments; the limit is ${MAX_PATH_SEGMENTS}`, 'path');
  }
  segments.forEach((segment, index) => {
    if (!SEGMENT.test(segment)) {
      throw new SecretException(
        SecretExceptionCode.InvalidPath,
        `path segment ${index + 1} ${JSON.stringify(segment)} must be 1-128 characters of letters, digits, '.', '_' or '-', not starting with '.' or '-'`,
        'path',
      );
    }
  });
}

export function assertSecretEnvironment(environment: string): void {
  if (!ENVIRONMENT.test(environment)) {
    throw new SecretException(
      SecretExceptionCode.InvalidPath,
      environment === ''
        ? 'environment is required'
        : `environment ${JSON.stringify(environment)} must be 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit`,
      'environment',
    );
  }
}

export function assertSecretRef(ref: SecretRef): void {
  assertSecretEnvironment(ref.environment);
  assertSecretPath(ref.path);
}

/** What a sealed value is bound to: moving ciphertext to another environment, path or version breaks it. */
export function bindingPathOf(ref: SecretRef): string {
  return `${ref.environment}:${ref.path}`;
}

export function subjectOf(ref: SecretRef): string {
  return `secrets/${ref.path}@${ref.environment}`;
}
