import {
  generateApiKey,
  isPermission,
  parseApiKey,
  verifyApiKeySecret,
  type Permission,
  type Principal,
  type Role,
} from '@llmops/platform-auth';
import type { Logger } from '@llmops/platform-observability';
import type { Database } from '@llmops/platform-persistence';
import { SecurityEventType } from '@llmops/contracts';
import { SecurityEvents, type SecurityEventOrigin } from '../auth/security-events.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { GATEWAY_SCHEMA } from '../migrations/1763800000000-CreateIdentity.js';
import { assertMayGrant } from '../role-bindings/role-delegation.js';
import { viewOfBinding, type RoleBindingView } from '../role-bindings/role-binding-views.js';
import { allBindingsOf, jsonOf, storedBindingsOfRow } from '../role-bindings/stored-bindings.js';
import { CredentialStateCache } from '../auth/credential-state-cache.js';

export interface CreateApiKeyInput {
  name: string;
  roles?: Role[];
  scopes?: Permission[];
  expiresInDays?: number;
}

export interface ApiKeyView {
  id: string;
  name: string;
  /** The roles the key holds unconditionally. */
  roles: Role[];
  /** Every binding, the plain roles included, as GET /api-keys/{id}/role-bindings lists them. */
  role_bindings: RoleBindingView[];
  scopes: Permission[] | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface ApiKeyRow {
  id: string;
  name: string;
  owner_id: string;
  secret_hash: string;
  roles: unknown;
  role_bindings: unknown;
  scopes: unknown;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** last_used_at is a hint for humans; writing it at most once a minute keeps key auth off the write path. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** API keys for automation: the secret is shown once at creation, only its hash is stored. */
export class ApiKeysService {
  constructor(
    private readonly database: Database,
    private readonly pepper: string | undefined,
    private readonly logger: Logger,
    private readonly securityEvents: SecurityEvents,
    private readonly credentialStates: CredentialStateCache = new CredentialStateCache(),
  ) {}

  looksLikeApiKey(credential: string): boolean {
    return parseApiKey(credential) !== undefined;
  }

  async authenticate(key: string): Promise<Principal> {
    const parsed = parseApiKey(key);
    if (!parsed) throw new GatewayException(GatewayErrorCode.AuthFailed, 'malformed API key');
    // The owner's state comes along: a key stops working with its owner's account, and acts in its owner's tenant.
    let state = this.credentialStates.apiKeys.get(parsed.id);
    if (!state) {
      const rows: Array<ApiKeyRow & { owner_inactive: boolean; owner_tenant_id: string | null }> = await this.database.dataSource.query(
        `SELECT k.*, (u.disabled_at IS NOT NULL OR u.deleted_at IS NOT NULL) AS owner_inactive, u.tenant_id AS owner_tenant_id
         FROM ${GATEWAY_SCHEMA}.api_keys k JOIN ${GATEWAY_SCHEMA}.users u ON u.id = k.owner_id WHERE k.id = $1`,
        [parsed.id],
      );
      state = rows[0] ? { row: rows[0] } : { missing: true };
      this.credentialStates.apiKeys.set(parsed.id, state);
    }
    const row = 'row' in state ? state.row : undefined;
    // The secret is checked on every request, cached row or not.
    if (!row || !verifyApiKeySecret(parsed.secret, row.secret_hash, this.pepper)) {
      throw new GatewayException(GatewayErrorCode.AuthFailed, 'invalid API key');
    }
    if (row.revoked_at) throw new GatewayException(GatewayErrorCode.AuthFailed, 'API key has been revoked');
    if (row.owner_inactive) throw new GatewayException(GatewayErrorCode.AuthFailed, "the API key's owner is disabled");
    if (row.expires_at && row.expires_at.getTime() <= Date.now()) {
      throw new GatewayException(GatewayErrorCode.AuthFailed, 'API key has expired');
    }
    if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > LAST_USED_RESOLUTION_MS) {
      this.database.dataSource
        .query(`UPDATE ${GATEWAY_SCHEMA}.api_keys SET last_used_at = now() WHERE id = $1`, [row.id])
        .catch((error: unknown) => this.logger.warn({ err: error, apiKeyId: row.id }, 'recording API key use failed'));
    }
    const scopes = jsonOf<Permission[] | null>(row.scopes);
    const { roles, bindings } = storedBindingsOfRow(row);
    return {
      id: row.id,
      type: 'api_key',
      roles,
      ...(bindings.length > 0 ? { bindings } : {}),
      ...(scopes ? { scopes } : {}),
      ...(row.owner_tenant_id !== null ? { tenantId: row.owner_tenant_id } : {}),
    };
  }

  async create(owner: Principal, input: CreateApiKeyInput, origin: SecurityEventOrigin = {}): Promise<ApiKeyView & { key: string }> {
    if (owner.type !== 'user') {
      throw new GatewayException(GatewayErrorCode.Forbidden, 'only users can create API keys; an API key cannot mint another');
    }
    const roles = input.roles ?? owner.roles;
    assertMayGrant(owner, roles);
    const invalidScopes = (input.scopes ?? []).filter((scope) => !isPermission(scope));
    if (invalidScopes.length > 0) {
      throw new GatewayException(GatewayErrorCode.ValidationError, `scopes: unknown permission(s) ${invalidScopes.join(', ')}`);
    }
    const generated = generateApiKey({ pepper: this.pepper });
    const expiresAt = input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null;
    const row = await this.database.dataSource.transaction(async (manager) => {
      const rows: ApiKeyRow[] = await manager.query(
        `INSERT INTO ${GATEWAY_SCHEMA}.api_keys (id, name, owner_id, secret_hash, roles, scopes, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        [
          generated.id,
          input.name,
          owner.id,
          generated.hash,
          JSON.stringify(roles),
          input.scopes ? JSON.stringify(input.scopes) : null,
          expiresAt,
        ],
      );
      await this.securityEvents.record(
        SecurityEventType.ApiKeyCreated,
        `api-keys/${generated.id}`,
        { name: input.name, roles: roles.join(','), scopes: input.scopes?.join(',') ?? null },
        { ...origin, principal: owner },
        manager,
      );
      return rows[0]!;
    });
    return { ...viewOf(row), key: generated.key };
  }

  async list(owner: Principal): Promise<ApiKeyView[]> {
    const rows: ApiKeyRow[] = await this.database.dataSource.query(
      `SELECT * FROM ${GATEWAY_SCHEMA}.api_keys WHERE owner_id::text = $1 ORDER BY created_at DESC`,
      [owner.id],
    );
    return rows.map(viewOf);
  }

  async revoke(owner: Principal, id: string, origin: SecurityEventOrigin = {}): Promise<ApiKeyView> {
    const row = await this.database.dataSource.transaction(async (manager) => {
      const rows: ApiKeyRow[] = await manager.query(
        `WITH revoked AS (UPDATE ${GATEWAY_SCHEMA}.api_keys SET revoked_at = coalesce(revoked_at, now())
          WHERE id = $1 AND owner_id::text = $2 RETURNING *) SELECT * FROM revoked`,
        [id, owner.id],
      );
      const revoked = rows[0];
      if (revoked) {
        this.credentialStates.forgetApiKey(id);
        await this.securityEvents.record(SecurityEventType.ApiKeyRevoked, `api-keys/${id}`, { name: revoked.name }, { ...origin, principal: owner }, manager);
      }
      return revoked;
    });
    if (!row) throw new GatewayException(GatewayErrorCode.NotFound, `API key ${id} not found`);
    return viewOf(row);
  }
}

function viewOf(row: ApiKeyRow): ApiKeyView {
  const stored = storedBindingsOfRow(row);
  return {
    id: row.id,
    name: row.name,
    roles: stored.roles,
    role_bindings: allBindingsOf(stored).map(viewOfBinding),
    scopes: jsonOf<Permission[] | null>(row.scopes),
    created_at: new Date(row.created_at).toISOString(),
    expires_at: row.expires_at ? new Date(row.expires_at).toISOString() : null,
    last_used_at: row.last_used_at ? new Date(row.last_used_at).toISOString() : null,
    revoked_at: row.revoked_at ? new Date(row.revoked_at).toISOString() : null,
  };
}
