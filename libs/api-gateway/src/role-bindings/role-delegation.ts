import type { Principal, Role } from '@llmops/platform-auth';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';

/**
 * No escalation by handing out roles: a global-admin may grant any role, a tenant-admin any role below global-admin,
 * everyone else only roles they hold. Only roles held unconditionally count, so a role held inside a time window or
 * from one network cannot be passed on without those limits.
 */
export function mayGrant(held: readonly Role[], role: Role): boolean {
  if (held.includes('global-admin')) return true;
  if (held.includes('tenant-admin')) return role !== 'global-admin';
  return held.includes(role);
}

export function assertMayGrant(grantor: Principal, roles: readonly Role[]): void {
  const escalated = [...new Set(roles.filter((role) => !mayGrant(grantor.roles, role)))];
  if (escalated.length > 0) {
    throw new GatewayException(GatewayErrorCode.Forbidden, `you cannot grant roles you do not hold unconditionally: ${escalated.join(', ')}`);
  }
}
