import { PERMISSIONS, type Permission } from './permissions.js';
import type { Role } from './roles.js';

/**
 * One permission a role holds.
 * - `environments`: where the grant applies for environment-scoped resources (configs, secrets); omitted or `'*'`
 *   means every environment. A listed set needs the request to name its environment.
 * - `tenant`: omitted = when the request names a tenant it must be the principal's own; `'own'` = only inside the
 *   principal's own tenant, which the request must name; `'any'` = every tenant.
 */
export interface PermissionGrant {
  permission: Permission | '*';
  environments?: readonly string[] | '*';
  tenant?: 'own' | 'any';
}

const DEVELOPMENT = ['development', 'base'] as const;
const DEVELOPMENT_AND_STAGING = ['development', 'base', 'staging'] as const;
const OWN_API_KEYS: readonly PermissionGrant[] = [
  { permission: 'api-keys:create' },
  { permission: 'api-keys:read' },
  { permission: 'api-keys:revoke' },
];
/** Managing users and roles is global unless scoped to one tenant, which only tenant-admin may do for its own. */
const IDENTITY_MANAGEMENT: readonly Permission[] = ['users:manage', 'roles:manage'];

/** The RBAC policy as data (seed 001 §3.2). Anything not listed is denied. */
export const ROLE_GRANTS: Readonly<Record<Role, readonly PermissionGrant[]>> = {
  'global-admin': [{ permission: '*', environments: '*', tenant: 'any' }],
  'tenant-admin': [
    ...PERMISSIONS.filter((permission) => !IDENTITY_MANAGEMENT.includes(permission)).map(
      (permission): PermissionGrant => ({ permission, environments: '*' }),
    ),
    ...IDENTITY_MANAGEMENT.map((permission): PermissionGrant => ({ permission, tenant: 'own' })),
  ],
  // Config updates and secret rotation everywhere; secret values stay hidden and people are not theirs to manage.
  operator: [
    { permission: 'configs:read', environments: '*' },
    { permission: 'configs:write', environments: '*' },
    { permission: 'usage:record', environments: '*' },
    { permission: 'secrets:read', environments: '*' },
    { permission: 'secrets:rotate', environments: '*' },
    { permission: 'audit:read' },
    ...OWN_API_KEYS,
  ],
  // Read/write in development (and the shared base layer), read-only in staging, nothing in production.
  developer: [
    { permission: 'configs:read', environments: DEVELOPMENT_AND_STAGING },
    { permission: 'configs:write', environments: DEVELOPMENT },
    { permission: 'configs:delete', environments: DEVELOPMENT },
    { permission: 'usage:record', environments: DEVELOPMENT },
    { permission: 'secrets:read', environments: DEVELOPMENT_AND_STAGING },
    { permission: 'secrets:write', environments: DEVELOPMENT },
    { permission: 'secrets:reveal', environments: DEVELOPMENT },
    { permission: 'secrets:rotate', environments: DEVELOPMENT },
    ...OWN_API_KEYS,
  ],
  viewer: [
    { permission: 'configs:read', environments: '*' },
    { permission: 'secrets:read', environments: '*' },
    { permission: 'audit:read' },
  ],
  // Automation reads configuration, and records the usage of the LLM requests it makes or proxies.
  'service-account': [
    { permission: 'configs:read', environments: '*' },
    { permission: 'secrets:read', environments: '*' },
    { permission: 'usage:record', environments: '*' },
  ],
};

/** Every permission a role holds somewhere, ignoring environments, tenants and conditions (a hint for clients). */
export function permissionsOfRole(role: Role): Permission[] {
  const grants = ROLE_GRANTS[role];
  if (grants.some((grant) => grant.permission === '*')) return [...PERMISSIONS];
  return PERMISSIONS.filter((permission) => grants.some((grant) => grant.permission === permission));
}
