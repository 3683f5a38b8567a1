import { ConfigException, ConfigExceptionCode } from './exceptions/config.exception.js';

/** One path segment: lower-case, starts with a letter or digit, at most 63 characters (so `..` never passes). */
const SEGMENT = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const ENVIRONMENT = /^[a-z0-9][a-z0-9_-]{0,31}$/;
export const MAX_NAMESPACE_SEGMENTS = 7;
/** Words the REST API puts after a key path (`…/model/history`), so no key may be one of them. */
export const RESERVED_SEGMENTS = ['history', 'rollback', 'undelete', 'validate', 'watch', 'bulk'] as const;

/** Environments from least to most specific; a read resolves the most specific value at or below the one asked for. */
export const DEFAULT_ENVIRONMENT_CHAIN = ['base', 'development', 'staging', 'production'] as const;

export function assertNamespace(namespace: string): void {
  const segments = namespace.split('/');
  if (segments.length > MAX_NAMESPACE_SEGMENTS) {
    throw new ConfigException(
      ConfigExceptionCode.InvalidPath,
      `namespace has ${segments.length} segments; a path is at most ${MAX_NAMESPACE_SEGMENTS + 1} segments including the key`,
      'namespace',
    );
  }
  segments.forEach((segment, index) => assertSegment(segment, `namespace segment ${index + 1}`, 'namespace'));
}

export function assertKey(key: string): void {
  assertSegment(key, 'key', 'key');
  if ((RESERVED_SEGMENTS as readonly string[]).includes(key)) {
    throw new ConfigException(
      ConfigExceptionCode.InvalidPath,
      `key ${JSON.stringify(key)} is reserved by the API (${RESERVED_SEGMENTS.join(', ')})`,
      'key',
    );
  }
}

export function assertEnvironment(environment: string): void {
  if (!ENVIRONMENT.test(environment)) {
    throw new ConfigException(
      ConfigExceptionCode.InvalidPath,
      `environment ${JSON.stringify(environment)} must match [a-z0-9][a-z0-9_-]{0,31}`,
      'environment',
    );
  }
}

function assertSegment(segment: string, what: string, field: string): void {
  if (!SEGMENT.test(segment)) {
    throw new ConfigException(
      ConfigExceptionCode.InvalidPath,
      `${what} ${JSON.stringify(segment)} must match [a-z0-9][a-z0-9._-]{0,62}`,
      field,
    );
  }
}

/** `a/b/c` → `a`, `a/b`, `a/b/c`: least to most specific. */
export function selfAndAncestors(namespace: string): string[] {
  const segments = namespace.split('/');
  return segments.map((_, index) => segments.slice(0, index + 1).join('/'));
}
