import { SecurityEventType } from '@llmops/contracts';
import { authorize, type Principal, type RoleBinding } from '@llmops/platform-auth';
import { SecurityEvents, type SecurityEventOrigin } from '../auth/security-events.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';

/** The tenant a user belongs to, which its API keys act in too; null for a platform-wide user. */
export type IdentityTenant = string | null;

export type IdentityPermission = 'users:manage' | 'roles:manage';

/**
 * Which identities an administrator manages: a global admin every user and key, a tenant admin only those of its own
 * tenant (like a Vault namespace admin). The route has checked the permission in the caller's own tenant; this checks
 * it again, with authorize() and the caller's address, against the tenant of what the request names or touches.
 * Refusals are audited as `authz.denied`, like the route checks'.
 */
export class IdentityTenancy {
  constructor(private readonly securityEvents: SecurityEvents) {}

  /**
   * For a tenant the request names (a new user's, a list filter, a binding's): a 403 saying what was refused and why.
   * `refused` completes "you cannot …", e.g. `create a user in tenant globex`.
   */
  async assertMayName(
    actor: Principal,
    permission: IdentityPermission,
    tenant: IdentityTenant,
    refused: string,
    subject: string,
    origin: SecurityEventOrigin,
  ): Promise<void> {
    const reason = this.refusal(actor, permission, tenant, origin);
    if (reason === undefined) return;
    await this.recordRefusal(permission, tenant, reason, subject, origin);
    throw new GatewayException(GatewayErrorCode.Forbidden, `you cannot ${refused}: ${reason}`);
  }

  /**
   * For a user or key the request touches: why the actor may not manage it, or undefined when it may. One of another
   * tenant is answered as missing (record it with {@link recordRefusal}), so a tenant admin learns nothing of other
   * tenants' users.
   */
  refusal(actor: Principal, permission: IdentityPermission, tenant: IdentityTenant, origin: SecurityEventOrigin): string | undefined {
    // A platform-wide user is checked with no tenant named: only a grant valid in every tenant reaches it.
    const decision = authorize(actor, permission, { tenantId: tenant ?? undefined, ip: origin.ip });
    return decision.allowed ? undefined : decision.reason;
  }

  /** Audits a refusal as `authz.denied`, e.g. one answered as a 404. */
  async recordRefusal(
    permission: IdentityPermission,
    tenant: IdentityTenant,
    reason: string,
    subject: string,
    origin: SecurityEventOrigin,
  ): Promise<void> {
    await this.securityEvents.record(SecurityEventType.AccessDenied, subject, { permission, tenant_id: tenant, reason }, origin);
  }
}

export function describeTenant(tenant: IdentityTenant): string {
  return tenant === null ? 'no tenant (platform-wide)' : `tenant ${tenant}`;
}

/**
 * Why a user of `tenant` (or its API key) may not hold `binding`: the binding's field and the problem, or undefined.
 * global-admin acts in every tenant, so only a platform-wide user holds it; a binding of a tenant's user acts in that
 * tenant only.
 */
export function bindingProblem(tenant: IdentityTenant, binding: RoleBinding): { field: 'role' | 'tenant_id'; message: string } | undefined {
  if (tenant === null) return undefined;
  if (binding.role === 'global-admin') {
    return { field: 'role', message: `global-admin acts in every tenant, so a user of tenant ${tenant} (or its API key) cannot hold it` };
  }
  if (binding.tenantId !== undefined && binding.tenantId !== tenant) {
    return { field: 'tenant_id', message: `must be ${tenant}, the tenant of the user, or be omitted` };
  }
  return undefined;
}
