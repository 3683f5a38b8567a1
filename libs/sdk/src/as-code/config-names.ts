/** The naming rules config-manager enforces, checked here so a bad file is named before anything is sent. */
const SEGMENT = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const ENVIRONMENT = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const MAX_NAMESPACE_SEGMENTS = 7;
const RESERVED_KEYS = ['history', 'rollback', 'undelete', 'validate', 'watch', 'bulk'];

/** Why `name` is not a valid key, or undefined when it is. */
export function keyNameProblem(name: string): string | undefined {
  if (!SEGMENT.test(name)) return `key ${JSON.stringify(name)} must match [a-z0-9][a-z0-9._-]{0,62}`;
  if (RESERVED_KEYS.includes(name)) return `key ${JSON.stringify(name)} is reserved by the API (${RESERVED_KEYS.join(', ')})`;
  return undefined;
}

export function environmentNameProblem(name: string): string | undefined {
  return ENVIRONMENT.test(name) ? undefined : `environment ${JSON.stringify(name)} must match [a-z0-9][a-z0-9_-]{0,31}`;
}

export function namespaceProblem(namespace: string): string | undefined {
  const segments = namespace.split('/');
  if (segments.length > MAX_NAMESPACE_SEGMENTS) return `namespace ${namespace} has more than ${MAX_NAMESPACE_SEGMENTS} segments`;
  const bad = segments.find((segment) => !SEGMENT.test(segment));
  return bad === undefined ? undefined : `namespace segment ${JSON.stringify(bad)} must match [a-z0-9][a-z0-9._-]{0,62}`;
}
