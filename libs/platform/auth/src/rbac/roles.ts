import { AuthException, AuthExceptionCode } from '../exceptions/auth.exception.js';

/** The roles of seed 001 §3.2. */
export const ROLES = ['global-admin', 'tenant-admin', 'operator', 'developer', 'viewer', 'service-account'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Validates stored or forwarded roles; an unknown role is an error rather than silently dropped. */
export function parseRoles(value: unknown): Role[] {
  if (!Array.isArray(value)) {
    throw new AuthException(AuthExceptionCode.PrincipalInvalid, 'roles must be a list');
  }
  const unknown = value.filter((role) => !isRole(role));
  if (unknown.length > 0) {
    throw new AuthException(
      AuthExceptionCode.PrincipalInvalid,
      `unknown role(s) ${unknown.map((role) => JSON.stringify(role)).join(', ')}; known roles are ${ROLES.join(', ')}`,
    );
  }
  return [...new Set(value as Role[])];
}
