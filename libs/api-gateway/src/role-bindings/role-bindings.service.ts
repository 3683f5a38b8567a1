import { SecurityEventType } from '@llmops/contracts';
import type { Principal, RoleBinding } from '@llmops/platform-auth';
import type { Database } from '@llmops/platform-persistence';
import type { EntityManager } from 'typeorm';
import { SecurityEvents, type SecurityEventOrigin } from '../auth/security-events.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { GATEWAY_SCHEMA } from '../migrations/1763800000000-CreateIdentity.js';
import { bindingProblem, describeTenant, IdentityTenancy, type IdentityTenant } from './identity-tenancy.js';
import { assertMayGrant } from './role-delegation.js';
import { viewOfBinding } from './role-binding-views.js';
import { allBindingsOf, storedBindingsOf, storedBindingsOfRow } from './stored-bindings.js';
import { CredentialStateCache } from '../auth/credential-state-cache.js';

/** Who holds the bindings: a user (by UUID) or an API key (by key id). */
export interface BindingHolder {
  type: 'user' | 'api_key';
  id: string;
}

interface HolderRow {
  roles: unknown;
  role_bindings: unknown;
  /** The user's tenant, or for an API key its owner's. */
  tenant_id: string | null;
  revoked_at?: Date | null;
}

/**
 * Reads and replaces the role bindings of users and API keys. A replacement takes effect at the holder's next
 * request: API keys are loaded on every request, and a user's authorization version is bumped so that access tokens
 * issued before the change are refused. A tenant admin reaches only the users of its tenant and their keys, and binds
 * roles in its tenant only.
 */
export class RoleBindingsService {
  private readonly tenancy: IdentityTenancy;

  constructor(
    private readonly database: Database,
    private readonly securityEvents: SecurityEvents,
    private readonly credentialStates: CredentialStateCache = new CredentialStateCache(),
  ) {
    this.tenancy = new IdentityTenancy(securityEvents);
  }

  async list(actor: Principal, holder: BindingHolder, origin: SecurityEventOrigin = {}): Promise<RoleBinding[]> {
    const row = await this.find(this.database.dataSource.manager, holder, false);
    await this.assertVisible(actor, holder, row.tenant_id, origin);
    return allBindingsOf(storedBindingsOfRow(row));
  }

  async replace(actor: Principal, holder: BindingHolder, bindings: RoleBinding[], origin: SecurityEventOrigin = {}): Promise<RoleBinding[]> {
    if (actor.id === holder.id) {
      throw new GatewayException(GatewayErrorCode.Conflict, 'you cannot change your own role bindings; another administrator has to');
    }
    assertMayGrant(actor, bindings.map((binding) => binding.role));
    for (const [index, binding] of bindings.entries()) {
      if (binding.tenantId === undefined) continue;
      await this.tenancy.assertMayName(
        actor,
        'roles:manage',
        binding.tenantId,
        `bind a role in ${describeTenant(binding.tenantId)} (bindings.${index}.tenant_id)`,
        subjectOf(holder),
        origin,
      );
    }
    const stored = storedBindingsOf(bindings);
    // The holder's tenant never changes, so reading it before the transaction that locks the row races with nothing.
    const tenant = (await this.find(this.database.dataSource.manager, holder, false)).tenant_id;
    await this.assertVisible(actor, holder, tenant, origin);
    for (const [index, binding] of bindings.entries()) {
      const problem = bindingProblem(tenant, binding);
      if (problem) throw new GatewayException(GatewayErrorCode.ValidationError, `bindings.${index}.${problem.field}: ${problem.message}`);
    }
    const replaced = await this.database.dataSource.transaction(async (manager) => {
      const previous = allBindingsOf(storedBindingsOfRow(await this.find(manager, holder, true)));
      const table = holder.type === 'user' ? 'users' : 'api_keys';
      const userVersion = holder.type === 'user' ? ', authz_version = authz_version + 1, updated_at = now()' : '';
      await manager.query(`UPDATE ${GATEWAY_SCHEMA}.${table} SET roles = $2, role_bindings = $3${userVersion} WHERE id = $1`, [
        holder.id,
        JSON.stringify(stored.roles),
        JSON.stringify(stored.bindings),
      ]);
      const current = allBindingsOf(stored);
      await this.securityEvents.record(
        SecurityEventType.RoleBindingChanged,
        subjectOf(holder),
        {
          principal_type: holder.type,
          tenant_id: tenant,
          bindings: JSON.stringify(current.map(viewOfBinding)),
          previous_bindings: JSON.stringify(previous.map(viewOfBinding)),
        },
        { ...origin, principal: actor },
        manager,
      );
      return current;
    });
    if (holder.type === 'user') this.credentialStates.forgetUser(holder.id);
    else this.credentialStates.forgetApiKey(holder.id);
    return replaced;
  }

  /** A holder of a tenant the actor does not manage is answered as missing, so its existence stays hidden. */
  private async assertVisible(actor: Principal, holder: BindingHolder, tenant: IdentityTenant, origin: SecurityEventOrigin): Promise<void> {
    const refusal = this.tenancy.refusal(actor, 'roles:manage', tenant, origin);
    if (refusal === undefined) return;
    await this.tenancy.recordRefusal('roles:manage', tenant, refusal, subjectOf(holder), origin);
    throw notFound(holder);
  }

  private async find(manager: EntityManager, holder: BindingHolder, forUpdate: boolean): Promise<HolderRow> {
    if (holder.type === 'user') {
      const rows: HolderRow[] = await manager.query(
        `SELECT roles, role_bindings, tenant_id FROM ${GATEWAY_SCHEMA}.users WHERE id = $1 AND deleted_at IS NULL${forUpdate ? ' FOR UPDATE' : ''}`,
        [holder.id],
      );
      if (!rows[0]) throw notFound(holder);
      return rows[0];
    }
    // A key acts in its owner's tenant.
    const rows: HolderRow[] = await manager.query(
      `SELECT k.roles, k.role_bindings, k.revoked_at, u.tenant_id FROM ${GATEWAY_SCHEMA}.api_keys k
       JOIN ${GATEWAY_SCHEMA}.users u ON u.id = k.owner_id WHERE k.id = $1${forUpdate ? ' FOR UPDATE OF k' : ''}`,
      [holder.id],
    );
    const row = rows[0];
    if (!row) throw notFound(holder);
    if (forUpdate && row.revoked_at) throw new GatewayException(GatewayErrorCode.Conflict, `API key ${holder.id} is revoked`);
    return row;
  }
}

function notFound(holder: BindingHolder): GatewayException {
  return new GatewayException(GatewayErrorCode.NotFound, holder.type === 'user' ? `user ${holder.id} not found` : `API key ${holder.id} not found`);
}

export function subjectOf(holder: BindingHolder): string {
  return holder.type === 'user' ? `users/${holder.id}` : `api-keys/${holder.id}`;
}
