import type { Permission } from '../rbac/permissions.js';
import type { RoleBinding } from '../rbac/role-binding.js';
import type { Role } from '../rbac/roles.js';

export const PRINCIPAL_TYPES = ['user', 'api_key', 'service'] as const;
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

/** Who is calling, as authenticated by the gateway. */
export interface Principal {
  id: string;
  type: PrincipalType;
  email?: string;
  /** Roles held unconditionally. */
  roles: Role[];
  /** Further roles held only while their ABAC conditions hold. */
  bindings?: RoleBinding[];
  tenantId?: string;
  /** API keys may be narrowed: when present, only these permissions, and only as far as the roles grant them. */
  scopes?: Permission[];
}

/** Every role binding of the principal: its plain roles as unconditional bindings, then its conditional ones. */
export function bindingsOf(principal: Principal): RoleBinding[] {
  return [...principal.roles.map((role): RoleBinding => ({ role })), ...(principal.bindings ?? [])];
}
