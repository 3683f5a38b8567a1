import { randomBytes, randomUUID } from 'node:crypto';
import { SecurityEventType } from '@llmops/contracts';
import {
  AuthException,
  hashPassword,
  verifyPasswordOrDummy,
  type AccessTokenClaims,
  type Principal,
  type Role,
  type TokenPair,
  type TokenService,
} from '@llmops/platform-auth';
import type { Logger } from '@llmops/platform-observability';
import type { Database } from '@llmops/platform-persistence';
import { decodeJwt } from 'jose';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { GATEWAY_SCHEMA } from '../migrations/1763800000000-CreateIdentity.js';
import { storedBindingsOfRow } from '../role-bindings/stored-bindings.js';
import { SecurityEvents, type SecurityEventOrigin } from './security-events.js';
import { VerifiedTokenCache } from './verified-token-cache.js';
import { CredentialStateCache } from './credential-state-cache.js';

interface UserRow {
  id: string;
  email: string;
  tenant_id: string | null;
  password_hash: string;
  roles: unknown;
  role_bindings: unknown;
  authz_version: number;
  disabled_at: Date | null;
}

const USER_COLUMNS = 'id, email, tenant_id, password_hash, roles, role_bindings, authz_version, disabled_at';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Logs users in with email + password, rotates refresh tokens, and verifies access tokens. Access tokens carry the
 * user's authorization version; each request compares it with the stored one (a primary-key read), so disabling a
 * user or changing their roles or bindings takes effect at their next request rather than when the token expires.
 */
export class AuthService {
  private readonly verifiedTokens = new VerifiedTokenCache();

  constructor(
    private readonly database: Database,
    private readonly tokens: TokenService,
    private readonly logger: Logger,
    private readonly securityEvents: SecurityEvents,
    private readonly credentialStates: CredentialStateCache = new CredentialStateCache(),
  ) {}

  async login(email: string, password: string, origin: SecurityEventOrigin = {}): Promise<TokenPair> {
    const rows: UserRow[] = await this.database.dataSource.query(
      `SELECT ${USER_COLUMNS} FROM ${GATEWAY_SCHEMA}.users WHERE lower(email) = lower($1) AND deleted_at IS NULL`,
      [email],
    );
    const user = rows[0];
    // Verify against a dummy hash when the user does not exist, so the response time does not reveal which emails exist.
    const valid = await verifyPasswordOrDummy(password, user?.password_hash);
    if (!user || !valid || user.disabled_at) {
      await this.securityEvents.record(
        SecurityEventType.LoginFailed,
        // The attempted email goes only in the details, which the audit log stores as an HMAC; never in the subject.
        user ? `users/${user.id}` : 'users',
        { email: email.toLowerCase(), reason: !user ? 'unknown email' : !valid ? 'wrong password' : 'account disabled' },
        origin,
      );
      // Only someone who knows the password learns that the account is disabled.
      if (user && valid) throw new GatewayException(GatewayErrorCode.AuthFailed, 'this account is disabled');
      throw new GatewayException(GatewayErrorCode.AuthFailed, 'invalid email or password');
    }
    const principal = this.principalOf(user);
    const sessionId = randomUUID();
    const pair = await this.tokens.issue(principal, sessionId, { authzVersion: user.authz_version });
    await this.database.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO ${GATEWAY_SCHEMA}.refresh_sessions (id, user_id, current_jti, expires_at) VALUES ($1, $2, $3, $4)`,
        [sessionId, user.id, jtiOf(pair.refresh_token), expiryOf(pair.refresh_token)],
      );
      await this.securityEvents.record(
        SecurityEventType.LoginSucceeded,
        `users/${user.id}`,
        { email: user.email, session_id: sessionId },
        { ...origin, principal },
        manager,
      );
    });
    return pair;
  }

  /**
   * Exchanges a refresh token for a new pair. Each refresh token works once: presenting an old one again means it
   * leaked, so the whole session is revoked (OAuth 2.0 refresh-token rotation with reuse detection).
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const claims = await this.verify(() => this.tokens.verifyRefresh(refreshToken));
    const outcome = await this.database.dataSource.transaction(async (manager) => {
      const sessions: Array<{ current_jti: string; revoked_at: Date | null }> = await manager.query(
        `SELECT current_jti, revoked_at FROM ${GATEWAY_SCHEMA}.refresh_sessions WHERE id = $1 FOR UPDATE`,
        [claims.sessionId],
      );
      const session = sessions[0];
      if (!session || session.revoked_at) return { kind: 'revoked' as const };
      if (session.current_jti !== claims.jti) {
        // Returned rather than thrown so that the revocation commits.
        await manager.query(`UPDATE ${GATEWAY_SCHEMA}.refresh_sessions SET revoked_at = now() WHERE id = $1`, [claims.sessionId]);
        return { kind: 'reused' as const };
      }
      const users: UserRow[] = await manager.query(
        `SELECT ${USER_COLUMNS} FROM ${GATEWAY_SCHEMA}.users WHERE id = $1 AND deleted_at IS NULL AND disabled_at IS NULL`,
        [claims.sub],
      );
      const user = users[0];
      if (!user) return { kind: 'no-user' as const };
      const pair = await this.tokens.issue(this.principalOf(user), claims.sessionId, { authzVersion: user.authz_version });
      await manager.query(`UPDATE ${GATEWAY_SCHEMA}.refresh_sessions SET current_jti = $2, expires_at = $3 WHERE id = $1`, [
        claims.sessionId,
        jtiOf(pair.refresh_token),
        expiryOf(pair.refresh_token),
      ]);
      return { kind: 'issued' as const, pair };
    });
    switch (outcome.kind) {
      case 'issued':
        return outcome.pair;
      case 'revoked':
        throw new GatewayException(GatewayErrorCode.AuthFailed, 'refresh token has been revoked; log in again');
      case 'reused':
        this.logger.warn({ event: 'auth.refresh_reuse', sessionId: claims.sessionId }, 'refresh token reuse; session revoked');
        throw new GatewayException(GatewayErrorCode.AuthFailed, 'refresh token was already used; the session is revoked, log in again');
      case 'no-user':
        throw new GatewayException(GatewayErrorCode.AuthFailed, 'the account no longer exists or is disabled');
    }
  }

  async verifyAccessToken(token: string): Promise<Principal> {
    let claims = this.verifiedTokens.get(token);
    if (!claims) {
      claims = await this.verify(() => this.tokens.verifyAccessClaims(token));
      this.verifiedTokens.set(token, claims, claims.expiresAt.getTime());
    }
    await this.assertCurrent(claims);
    return claims.principal;
  }

  /** Refuses a token of a user who is gone or disabled, or whose roles or bindings changed after it was issued. */
  private async assertCurrent(claims: AccessTokenClaims): Promise<void> {
    const refuse = (message: string): GatewayException =>
      new GatewayException(GatewayErrorCode.AuthFailed, message, { 'www-authenticate': 'Bearer error="invalid_token"' });
    const { principal } = claims;
    if (principal.type !== 'user' || !UUID.test(principal.id)) throw refuse('access token does not name a user');
    let user = this.credentialStates.users.get(principal.id);
    if (!user) {
      const rows: Array<{ authz_version: number; disabled_at: Date | null }> = await this.database.dataSource.query(
        `SELECT authz_version, disabled_at FROM ${GATEWAY_SCHEMA}.users WHERE id = $1 AND deleted_at IS NULL`,
        [principal.id],
      );
      user = rows[0] ?? { missing: true };
      this.credentialStates.users.set(principal.id, user);
    }
    if ('missing' in user) throw refuse('the account no longer exists');
    if (user.disabled_at) throw refuse('this account is disabled');
    if (claims.authzVersion !== user.authz_version) {
      throw refuse("the account's roles or role bindings changed after this access token was issued; refresh it or log in again");
    }
  }

  /**
   * Makes sure an administrator exists. With no ADMIN_PASSWORD a random one is generated and returned so the
   * launcher can print it once; an existing admin is left untouched.
   */
  async ensureBootstrapAdmin(email: string, password?: string): Promise<{ created: boolean; generatedPassword?: string }> {
    const existing: unknown[] = await this.database.dataSource.query(
      `SELECT 1 FROM ${GATEWAY_SCHEMA}.users WHERE lower(email) = lower($1) AND deleted_at IS NULL`,
      [email],
    );
    if (existing.length > 0) return { created: false };
    const generatedPassword = password ? undefined : randomBytes(18).toString('base64url');
    const roles: Role[] = ['global-admin'];
    await this.database.dataSource.query(
      `INSERT INTO ${GATEWAY_SCHEMA}.users (email, password_hash, roles) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [email, await hashPassword(password ?? generatedPassword!), JSON.stringify(roles)],
    );
    return { created: true, generatedPassword };
  }

  private principalOf(user: UserRow): Principal {
    const { roles, bindings } = storedBindingsOfRow(user);
    return {
      id: user.id,
      type: 'user',
      email: user.email,
      roles,
      ...(bindings.length > 0 ? { bindings } : {}),
      // A user's tenant never changes, so a token carrying it needs no authorization-version bump to stay right.
      ...(user.tenant_id !== null ? { tenantId: user.tenant_id } : {}),
    };
  }

  private async verify<T>(check: () => Promise<T>): Promise<T> {
    try {
      return await check();
    } catch (error) {
      if (error instanceof AuthException) {
        throw new GatewayException(GatewayErrorCode.AuthFailed, error.message, { 'www-authenticate': 'Bearer' });
      }
      throw error;
    }
  }
}

function jtiOf(token: string): string {
  const jti = decodeJwt(token).jti;
  if (!jti) throw new Error('issued token has no jti');
  return jti;
}

function expiryOf(token: string): Date {
  return new Date((decodeJwt(token).exp ?? 0) * 1000);
}

