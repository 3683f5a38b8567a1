import { SecurityEventType } from '@llmops/contracts';
import type { Principal, RoleBinding } from '@llmops/platform-auth';
import type { Database } from '@llmops/platform-persistence';
import type { EntityManager } from 'typeorm';
import { SecurityEvents, type SecurityEventOrigin } from '../auth/security-events.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { GATEWAY_SCHEMA } from '../migrations/1763800000000-CreateIdentity.js';
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
  revoked_at?: Date | null;
}

/**
 * Reads and replaces the role bindings of users and API keys. A replacement takes effect at the holder's next
 * request: API keys are loaded on every request, and a user's authorization version is bumped so that access tokens
 * issued before the change are refused.
 */
export class RoleBindingsService {
  constructor(
    private readonly database: Database,
    private readonly securityEvents: SecurityEvents,
    private readonly credentialStates: CredentialStateCache = new CredentialStateCache(),
  ) {}

  async list(holder: BindingHolder): Promise<RoleBinding[]> {
    return allBindingsOf(storedBindingsOfRow(await this.find(this.database.dataSource.manager, holder, false)));
  }

  async replace(actor: Principal, holder: BindingHolder, bindings: RoleBinding[], origin: SecurityEventOrigin = {}): Promise<RoleBinding[]> {
    if (actor.id === holder.id) {
      throw new GatewayException(GatewayErrorCode.Conflict, 'you cannot change your own role bindings; another administrator has to');
    }
    assertMayGrant(actor, bindings.map((binding) => binding.role));
    const stored = storedBindingsOf(bindings);
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

  private async find(manager: EntityManager, holder: BindingHolder, forUpdate: boolean): Promise<HolderRow> {
    const lock = forUpdate ? ' FOR UPDATE' : '';
    if (holder.type === 'user') {
      const rows: HolderRow[] = await manager.query(
        `SELECT roles, role_bindings FROM ${GATEWAY_SCHEMA}.users WHERE id = $1 AND deleted_at IS NULL${lock}`,
        [holder.id],
      );
      if (!rows[0]) throw new GatewayException(GatewayErrorCode.NotFound, `user ${holder.id} not found`);
      return rows[0];
    }
    const rows: HolderRow[] = await manager.query(
      `SELECT roles, role_bindings, revoked_at FROM ${GATEWAY_SCHEMA}.api_keys WHERE id = $1${lock}`,
      [holder.id],
    );
    const row = rows[0];
    if (!row) throw new GatewayException(GatewayErrorCode.NotFound, `API key ${holder.id} not found`);
    if (forUpdate && row.revoked_at) throw new GatewayException(GatewayErrorCode.Conflict, `API key ${holder.id} is revoked`);
    return row;
  }
}

export function subjectOf(holder: BindingHolder): string {
  return holder.type === 'user' ? `users/${holder.id}` : `api-keys/${holder.id}`;
}
