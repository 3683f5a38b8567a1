/** Every permission the platform checks, as `resource:action`. */
export const PERMISSIONS = [
  'configs:read',
  'configs:write',
  'configs:delete',
  /** Record the tokens of LLM requests against a namespace's spend, priced by the environment's pricing configs. */
  'usage:record',
  /** Secret metadata (name, version, rotation state), never the value. */
  'secrets:read',
  'secrets:write',
  /** The plaintext value of a secret. */
  'secrets:reveal',
  'secrets:rotate',
  'audit:read',
  'audit:verify',
  'api-keys:create',
  'api-keys:read',
  'api-keys:revoke',
  'users:manage',
  'roles:manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}

/** `configs:write` → `write configs`, for decisions a person reads. */
export function describePermission(permission: string): string {
  const [resource, action] = permission.split(':');
  return action ? `${action} ${resource}` : permission;
}
