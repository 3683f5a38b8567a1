import { bindingsOf, type Principal } from '../principal/principal.js';
import { describePermission, isPermission, type Permission } from './permissions.js';
import { permissionsOfRole, ROLE_GRANTS, type PermissionGrant } from './role-grants.js';
import { unmetCondition, type RoleBinding } from './role-binding.js';
import type { Role } from './roles.js';

export interface AuthorizationContext {
  /** The environment the request acts in (configs and secrets are environment-scoped). */
  environment?: string;
  /** The tenant that owns the resource, when resources are tenant-scoped. */
  tenantId?: string;
  /** The client address, for IP-allowlisted bindings. */
  ip?: string;
  now?: Date;
}

export interface AuthorizationDecision {
  allowed: boolean;
  /** Why: the granting role when allowed, every failed route to the permission when denied. */
  reason: string;
}

/**
 * Deny by default: allowed only if some role binding whose conditions hold grants `permission` in this
 * environment and tenant, and (for narrowed API keys) the key's scopes include it.
 */
export function authorize(
  principal: Principal,
  permission: Permission,
  context: AuthorizationContext = {},
): AuthorizationDecision {
  if (!isPermission(permission)) return deny(`unknown permission ${JSON.stringify(permission)}`);
  if (principal.scopes && !principal.scopes.includes(permission)) {
    return deny(`API key scopes do not include ${permission}`);
  }
  const bindings = bindingsOf(principal);
  if (bindings.length === 0) return deny(`${principal.type} ${principal.id} has no roles`);
  const denials: string[] = [];
  for (const binding of bindings) {
    const unmet = unmetCondition(binding.conditions, context);
    if (unmet) {
      denials.push(`role ${binding.role} is ${unmet}`);
      continue;
    }
    const decision = authorizeBinding(binding, permission, principal, context);
    if (decision.allowed) return decision;
    denials.push(decision.reason);
  }
  return deny([...new Set(denials)].join('; '));
}

function authorizeBinding(
  binding: RoleBinding,
  permission: Permission,
  principal: Principal,
  context: AuthorizationContext,
): AuthorizationDecision {
  const role = binding.role;
  const action = describePermission(permission);
  const grants = ROLE_GRANTS[role].filter((grant) => grant.permission === '*' || grant.permission === permission);
  if (grants.length === 0) return deny(`role ${role} may not ${action}`);
  const tenantId = binding.tenantId ?? principal.tenantId;
  let firstFailure = '';
  for (const grant of grants) {
    const failure =
      tenantFailure(grant, role, action, tenantId, context) ?? narrowingFailure(grant, binding, context) ??
      environmentFailure(narrowed(grant, binding), role, action, context);
    if (!failure) {
      const where = context.environment ? ` in ${context.environment}` : '';
      return { allowed: true, reason: `role ${role} may ${action}${where}` };
    }
    firstFailure ||= failure;
  }
  return deny(firstFailure);
}

/**
 * The grant as the binding narrows it: environment-scoped grants (those naming environments, `'*'` included) keep
 * only the binding's environments; grants that are not environment-scoped are left alone.
 */
function narrowed(grant: PermissionGrant, binding: RoleBinding): PermissionGrant {
  if (!binding.environments || grant.environments === undefined) return grant;
  const bound = binding.environments;
  return { ...grant, environments: grant.environments === '*' ? bound : grant.environments.filter((env) => bound.includes(env)) };
}

function narrowingFailure(grant: PermissionGrant, binding: RoleBinding, context: AuthorizationContext): string | undefined {
  if (!binding.environments || grant.environments === undefined || context.environment === undefined) return undefined;
  return binding.environments.includes(context.environment)
    ? undefined
    : `role ${binding.role} is bound to ${binding.environments.join(', ')} only, not ${context.environment}`;
}

function environmentFailure(
  grant: PermissionGrant,
  role: Role,
  action: string,
  context: AuthorizationContext,
): string | undefined {
  if (grant.environments === undefined || grant.environments === '*') return undefined;
  if (grant.environments.length === 0) return `role ${role} may not ${action} in any environment its binding allows`;
  if (context.environment === undefined) {
    return `role ${role} may ${action} only in ${grant.environments.join(', ')} and the request names no environment`;
  }
  return grant.environments.includes(context.environment)
    ? undefined
    : `role ${role} may not ${action} in ${context.environment}`;
}

function tenantFailure(
  grant: PermissionGrant,
  role: Role,
  action: string,
  tenantId: string | undefined,
  context: AuthorizationContext,
): string | undefined {
  switch (grant.tenant) {
    case 'any':
      return undefined;
    case 'own':
      return tenantId !== undefined && context.tenantId === tenantId ? undefined : `role ${role} may ${action} only inside its own tenant`;
    case undefined:
      return context.tenantId === undefined || context.tenantId === tenantId
        ? undefined
        : `role ${role} may not ${action} in tenant ${context.tenantId}`;
  }
}

function deny(reason: string): AuthorizationDecision {
  return { allowed: false, reason };
}

/**
 * The permissions the principal holds somewhere (any environment, any binding, scopes applied). A hint for clients,
 * e.g. a UI hiding buttons; `authorize` is the decision.
 */
export function permissionsOf(principal: Principal): Permission[] {
  const granted = new Set(bindingsOf(principal).flatMap((binding) => permissionsOfRole(binding.role)));
  return [...granted].filter((permission) => !principal.scopes || principal.scopes.includes(permission));
}
