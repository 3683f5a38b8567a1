import { SecurityEventType } from '@llmops/contracts';
import { hashPassword, type Principal, type Role } from '@llmops/platform-auth';
import type { Database } from '@llmops/platform-persistence';
import { SecurityEvents, type SecurityEventOrigin } from '../auth/security-events.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { GATEWAY_SCHEMA } from '../migrations/1763800000000-CreateIdentity.js';
import { bindingProblem, describeTenant, IdentityTenancy, type IdentityTenant } from '../role-bindings/identity-tenancy.js';
import { assertMayGrant } from '../role-bindings/role-delegation.js';
import { viewOfBinding, type RoleBindingView } from '../role-bindings/role-binding-views.js';
import { allBindingsOf, storedBindingsOfRow } from '../role-bindings/stored-bindings.js';
import { CredentialStateCache } from '../auth/credential-state-cache.js';

export interface CreateUserInput {
  email: string;
  password: string;
  roles?: Role[];
  /** Omitted: the caller's own tenant, if it has one. */
  tenantId?: string;
}

export interface ListUsersQuery {
  limit?: number;
  cursor?: string;
  tenantId?: string;
}

/** A user as the API shows it; the password hash never leaves the service. */
export interface UserView {
  id: string;
  email: string;
  /** The tenant the user belongs to; null for a platform-wide user. */
  tenant_id: string | null;
  role_bindings: RoleBindingView[];
  created_at: string;
  updated_at: string;
  disabled_at: string | null;
}

interface UserRow {
  id: string;
  email: string;
  tenant_id: string | null;
  roles: unknown;
  role_bindings: unknown;
  created_at: Date;
  updated_at: Date;
  disabled_at: Date | null;
}

const USER_COLUMNS = 'id, email, tenant_id, roles, role_bindings, created_at, updated_at, disabled_at';
const DEFAULT_PAGE_SIZE = 100;

/**
 * People who log in: created by an administrator, disabled rather than deleted so the audit trail keeps its actors.
 * A user belongs to at most one tenant, for good; a tenant admin manages only its tenant's users, and those of other
 * tenants (and platform-wide ones) look to it as if they did not exist.
 */
export class UsersService {
  private readonly tenancy: IdentityTenancy;

  constructor(
    private readonly database: Database,
    private readonly securityEvents: SecurityEvents,
    private readonly credentialStates: CredentialStateCache = new CredentialStateCache(),
  ) {
    this.tenancy = new IdentityTenancy(securityEvents);
  }

  async create(actor: Principal, input: CreateUserInput, origin: SecurityEventOrigin = {}): Promise<UserView> {
    const roles = [...new Set(input.roles ?? [])];
    const tenant: IdentityTenant = input.tenantId ?? actor.tenantId ?? null;
    await this.tenancy.assertMayName(actor, 'users:manage', tenant, `create a user in ${describeTenant(tenant)}`, 'users', origin);
    assertMayGrant(actor, roles);
    for (const role of roles) {
      const problem = bindingProblem(tenant, { role });
      if (problem) throw new GatewayException(GatewayErrorCode.ValidationError, `roles: ${problem.message}`);
    }
    const passwordHash = await hashPassword(input.password);
    const row = await this.database.dataSource.transaction(async (manager) => {
      // The unique index on lower(email) decides races between two creations of the same address.
      const rows: UserRow[] = await manager.query(
        `INSERT INTO ${GATEWAY_SCHEMA}.users (email, password_hash, roles, tenant_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING RETURNING ${USER_COLUMNS}`,
        [input.email, passwordHash, JSON.stringify(roles), tenant],
      );
      const created = rows[0];
      if (!created) return undefined;
      await this.securityEvents.record(
        SecurityEventType.UserCreated,
        `users/${created.id}`,
        { email: created.email, roles: roles.join(','), tenant_id: tenant },
        { ...origin, principal: actor },
        manager,
      );
      return created;
    });
    if (!row) throw new GatewayException(GatewayErrorCode.Conflict, 'email: a user with this email address already exists');
    return viewOf(row);
  }

  /** Every user for a global admin (or one tenant's, with `tenantId`); a tenant admin's own tenant's only. */
  async list(actor: Principal, query: ListUsersQuery, origin: SecurityEventOrigin = {}): Promise<{ data: UserView[]; next_cursor: string | null }> {
    const everyTenant = query.tenantId === undefined && this.tenancy.refusal(actor, 'users:manage', null, origin) === undefined;
    const tenant: IdentityTenant = everyTenant ? null : query.tenantId ?? actor.tenantId ?? null;
    if (!everyTenant) {
      await this.tenancy.assertMayName(actor, 'users:manage', tenant, `list the users of ${describeTenant(tenant)}`, 'users', origin);
    }
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows: UserRow[] = await this.database.dataSource.query(
      `SELECT ${USER_COLUMNS} FROM ${GATEWAY_SCHEMA}.users
       WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR id > $1::uuid) AND ($3::text IS NULL OR tenant_id = $3::text)
       ORDER BY id LIMIT $2`,
      [query.cursor ?? null, limit + 1, tenant],
    );
    const data = rows.slice(0, limit).map(viewOf);
    return { data, next_cursor: rows.length > limit ? data[data.length - 1]!.id : null };
  }

  async get(actor: Principal, id: string, origin: SecurityEventOrigin = {}): Promise<UserView> {
    const rows: UserRow[] = await this.database.dataSource.query(
      `SELECT ${USER_COLUMNS} FROM ${GATEWAY_SCHEMA}.users WHERE id = $1 AND deleted_at IS NULL`,
      [id],
    );
    const user = rows[0];
    if (!user) throw userNotFound(id);
    const refusal = this.tenancy.refusal(actor, 'users:manage', user.tenant_id, origin);
    if (refusal === undefined) return viewOf(user);
    await this.tenancy.recordRefusal('users:manage', user.tenant_id, refusal, `users/${id}`, origin);
    throw userNotFound(id);
  }

  /**
   * Disables a user: logins fail, refresh sessions are revoked, and the authorization version moves on so access
   * tokens already issued are refused at their next request. Disabling a disabled user changes nothing.
   */
  async disable(actor: Principal, id: string, origin: SecurityEventOrigin = {}): Promise<UserView> {
    if (actor.id === id) throw new GatewayException(GatewayErrorCode.Conflict, 'you cannot disable your own account');
    type Outcome = { row?: UserRow; hidden?: { tenant: IdentityTenant; refusal: string } };
    const outcome = await this.database.dataSource.transaction(async (manager): Promise<Outcome> => {
      const rows: UserRow[] = await manager.query(
        `SELECT ${USER_COLUMNS} FROM ${GATEWAY_SCHEMA}.users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`,
        [id],
      );
      const user = rows[0];
      if (!user) return {};
      const refusal = this.tenancy.refusal(actor, 'users:manage', user.tenant_id, origin);
      // Another tenant's user is answered like a missing one; the refusal is recorded once the lock is released.
      if (refusal !== undefined) return { hidden: { tenant: user.tenant_id, refusal } };
      if (user.disabled_at) return { row: user };
      // UPDATE … RETURNING through TypeORM's query() yields [rows, count]; a CTE yields the rows.
      const [disabled]: UserRow[] = await manager.query(
        `WITH disabled AS (UPDATE ${GATEWAY_SCHEMA}.users SET disabled_at = now(), updated_at = now(), authz_version = authz_version + 1
           WHERE id = $1 RETURNING ${USER_COLUMNS}) SELECT * FROM disabled`,
        [id],
      );
      const sessions: Array<{ id: string }> = await manager.query(
        `WITH revoked AS (UPDATE ${GATEWAY_SCHEMA}.refresh_sessions SET revoked_at = now()
           WHERE user_id = $1 AND revoked_at IS NULL RETURNING id) SELECT id FROM revoked`,
        [id],
      );
      await this.securityEvents.record(
        SecurityEventType.UserDisabled,
        `users/${id}`,
        { email: user.email, sessions_revoked: sessions.length, tenant_id: user.tenant_id },
        { ...origin, principal: actor },
        manager,
      );
      return { row: disabled };
    });
    const { row, hidden } = outcome;
    if (hidden) await this.tenancy.recordRefusal('users:manage', hidden.tenant, hidden.refusal, `users/${id}`, origin);
    if (!row) throw userNotFound(id);
    this.credentialStates.forgetUser(id);
    return viewOf(row);
  }
}

function userNotFound(id: string): GatewayException {
  return new GatewayException(GatewayErrorCode.NotFound, `user ${id} not found`);
}

function viewOf(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    tenant_id: row.tenant_id,
    role_bindings: allBindingsOf(storedBindingsOfRow(row)).map(viewOfBinding),
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
    disabled_at: row.disabled_at ? new Date(row.disabled_at).toISOString() : null,
  };
}
