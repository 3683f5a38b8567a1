import { SecurityEventType } from '@llmops/contracts';
import { hashPassword, type Principal, type Role } from '@llmops/platform-auth';
import type { Database } from '@llmops/platform-persistence';
import { SecurityEvents, type SecurityEventOrigin } from '../auth/security-events.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { GATEWAY_SCHEMA } from '../migrations/1763800000000-CreateIdentity.js';
import { assertMayGrant } from '../role-bindings/role-delegation.js';
import { viewOfBinding, type RoleBindingView } from '../role-bindings/role-binding-views.js';
import { allBindingsOf, storedBindingsOfRow } from '../role-bindings/stored-bindings.js';
import { CredentialStateCache } from '../auth/credential-state-cache.js';

export interface CreateUserInput {
  email: string;
  password: string;
  roles?: Role[];
}

/** A user as the API shows it; the password hash never leaves the service. */
export interface UserView {
  id: string;
  email: string;
  role_bindings: RoleBindingView[];
  created_at: string;
  updated_at: string;
  disabled_at: string | null;
}

interface UserRow {
  id: string;
  email: string;
  roles: unknown;
  role_bindings: unknown;
  created_at: Date;
  updated_at: Date;
  disabled_at: Date | null;
}

const USER_COLUMNS = 'id, email, roles, role_bindings, created_at, updated_at, disabled_at';
const DEFAULT_PAGE_SIZE = 100;

/** People who log in: created by an administrator, disabled rather than deleted so the audit trail keeps its actors. */
export class UsersService {
  constructor(
    private readonly database: Database,
    private readonly securityEvents: SecurityEvents,
    private readonly credentialStates: CredentialStateCache = new CredentialStateCache(),
  ) {}

  async create(actor: Principal, input: CreateUserInput, origin: SecurityEventOrigin = {}): Promise<UserView> {
    const roles = [...new Set(input.roles ?? [])];
    assertMayGrant(actor, roles);
    const passwordHash = await hashPassword(input.password);
    const row = await this.database.dataSource.transaction(async (manager) => {
      // The unique index on lower(email) decides races between two creations of the same address.
      const rows: UserRow[] = await manager.query(
        `INSERT INTO ${GATEWAY_SCHEMA}.users (email, password_hash, roles) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING RETURNING ${USER_COLUMNS}`,
        [input.email, passwordHash, JSON.stringify(roles)],
      );
      const created = rows[0];
      if (!created) return undefined;
      await this.securityEvents.record(
        SecurityEventType.UserCreated,
        `users/${created.id}`,
        { email: created.email, roles: roles.join(',') },
        { ...origin, principal: actor },
        manager,
      );
      return created;
    });
    if (!row) throw new GatewayException(GatewayErrorCode.Conflict, 'email: a user with this email address already exists');
    return viewOf(row);
  }

  async list(page: { limit?: number; cursor?: string }): Promise<{ data: UserView[]; next_cursor: string | null }> {
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    const rows: UserRow[] = await this.database.dataSource.query(
      `SELECT ${USER_COLUMNS} FROM ${GATEWAY_SCHEMA}.users
       WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`,
      [page.cursor ?? null, limit + 1],
    );
    const data = rows.slice(0, limit).map(viewOf);
    return { data, next_cursor: rows.length > limit ? data[data.length - 1]!.id : null };
  }

  async get(id: string): Promise<UserView> {
    const rows: UserRow[] = await this.database.dataSource.query(
      `SELECT ${USER_COLUMNS} FROM ${GATEWAY_SCHEMA}.users WHERE id = $1 AND deleted_at IS NULL`,
      [id],
    );
    if (!rows[0]) throw new GatewayException(GatewayErrorCode.NotFound, `user ${id} not found`);
    return viewOf(rows[0]);
  }

  /**
   * Disables a user: logins fail, refresh sessions are revoked, and the authorization version moves on so access
   * tokens already issued are refused at their next request. Disabling a disabled user changes nothing.
   */
  async disable(actor: Principal, id: string, origin: SecurityEventOrigin = {}): Promise<UserView> {
    if (actor.id === id) throw new GatewayException(GatewayErrorCode.Conflict, 'you cannot disable your own account');
    const row = await this.database.dataSource.transaction(async (manager) => {
      const rows: UserRow[] = await manager.query(
        `SELECT ${USER_COLUMNS} FROM ${GATEWAY_SCHEMA}.users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`,
        [id],
      );
      const user = rows[0];
      if (!user || user.disabled_at) return user;
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
        { email: user.email, sessions_revoked: sessions.length },
        { ...origin, principal: actor },
        manager,
      );
      return disabled;
    });
    this.credentialStates.forgetUser(id);
    if (!row) throw new GatewayException(GatewayErrorCode.NotFound, `user ${id} not found`);
    return viewOf(row);
  }
}

function viewOf(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    role_bindings: allBindingsOf(storedBindingsOfRow(row)).map(viewOfBinding),
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
    disabled_at: row.disabled_at ? new Date(row.disabled_at).toISOString() : null,
  };
}
