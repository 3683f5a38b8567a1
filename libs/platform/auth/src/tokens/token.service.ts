import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, errors, exportJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import { z } from 'zod';
import { AuthException, AuthExceptionCode } from '../exceptions/auth.exception.js';
import type { Principal } from '../principal/principal.js';
import {
  firstIssue,
  permissionSchema,
  principalIdSchema,
  principalTypeSchema,
  roleBindingSchema,
  roleSchema,
} from '../principal/principal.schema.js';
import { permissionsOf } from '../rbac/authorize.js';

const ALGORITHM = 'RS256';
const MIN_RSA_BITS = 2048;

export interface TokenServiceOptions {
  /** PKCS#8 or PKCS#1 PEM. Omitted: a fresh pair is generated (embedded/developer setups; tokens die with the process). */
  privateKeyPem?: string;
  /** SPKI PEM; derived from the private key when omitted. */
  publicKeyPem?: string;
  issuer: string;
  audience: string;
  accessTtlSeconds?: number;
  refreshTtlSeconds?: number;
  /** Allowed clock skew between issuer and verifier. */
  clockToleranceSeconds?: number;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  /** Seconds until the access token expires. */
  expires_in: number;
}

export interface RefreshTokenClaims {
  sub: string;
  sessionId: string;
  jti: string;
}

/** A verified access token: its principal and the claims a verifier checks against current state. */
export interface AccessTokenClaims {
  principal: Principal;
  sessionId: string;
  /** The version of the subject's roles and bindings the token was issued for, when the issuer versions them. */
  authzVersion?: number;
  expiresAt: Date;
}

export interface IssueOptions {
  /**
   * Stamped into the access token so a verifier that tracks the current version can refuse a token issued before a
   * change of roles, bindings or account state, without waiting for it to expire.
   */
  authzVersion?: number;
}

export interface JsonWebKeySet {
  keys: JWK[];
}

type TokenType = 'access' | 'refresh';

const accessClaimsSchema = z.object({
  sub: principalIdSchema,
  typ: z.literal('access'),
  jti: z.string().min(1),
  session_id: z.string().min(1),
  principal_type: principalTypeSchema,
  roles: z.array(roleSchema),
  bindings: z.array(roleBindingSchema).optional(),
  email: z.string().optional(),
  tenant_id: z.string().optional(),
  scopes: z.array(permissionSchema).optional(),
  authz_version: z.number().int().nonnegative().optional(),
  exp: z.number(),
});

const refreshClaimsSchema = z.object({
  sub: principalIdSchema,
  typ: z.literal('refresh'),
  jti: z.string().min(1),
  session_id: z.string().min(1),
});

/** Issues and verifies RS256 access and refresh tokens (seed 000 "Authentication"). */
export class TokenService {
  private constructor(
    private readonly privateKey: KeyObject,
    private readonly publicKey: KeyObject,
    private readonly keyId: string,
    private readonly publicJwk: JWK,
    private readonly options: Required<Omit<TokenServiceOptions, 'privateKeyPem' | 'publicKeyPem'>>,
  ) {}

  static async create(options: TokenServiceOptions): Promise<TokenService> {
    const { privateKey, publicKey } = loadKeyPair(options.privateKeyPem, options.publicKeyPem);
    const jwk = await exportJWK(publicKey);
    const keyId = await calculateJwkThumbprint(jwk);
    return new TokenService(
      privateKey,
      publicKey,
      keyId,
      { ...jwk, kid: keyId, alg: ALGORITHM, use: 'sig' },
      {
        issuer: options.issuer,
        audience: options.audience,
        accessTtlSeconds: positiveSeconds(options.accessTtlSeconds ?? 900, 'accessTtlSeconds'),
        refreshTtlSeconds: positiveSeconds(options.refreshTtlSeconds ?? 7 * 86_400, 'refreshTtlSeconds'),
        clockToleranceSeconds: options.clockToleranceSeconds ?? 5,
      },
    );
  }

  /** The public key for other verifiers (`/.well-known/jwks.json`). */
  jwks(): JsonWebKeySet {
    return { keys: [{ ...this.publicJwk }] };
  }

  async issue(principal: Principal, sessionId: string, options: IssueOptions = {}): Promise<TokenPair> {
    const access = await this.sign(
      {
        roles: principal.roles,
        permissions: permissionsOf(principal),
        session_id: sessionId,
        principal_type: principal.type,
        ...(principal.bindings?.length ? { bindings: principal.bindings } : {}),
        ...(principal.email !== undefined ? { email: principal.email } : {}),
        ...(principal.tenantId !== undefined ? { tenant_id: principal.tenantId } : {}),
        ...(principal.scopes !== undefined ? { scopes: principal.scopes } : {}),
        ...(options.authzVersion !== undefined ? { authz_version: options.authzVersion } : {}),
      },
      principal.id,
      'access',
      this.options.accessTtlSeconds,
    );
    // The refresh token carries no roles: refreshing reloads them, so a role change takes effect then.
    const refresh = await this.sign({ session_id: sessionId }, principal.id, 'refresh', this.options.refreshTtlSeconds);
    return { access_token: access, refresh_token: refresh, token_type: 'Bearer', expires_in: this.options.accessTtlSeconds };
  }

  async verifyAccess(token: string | undefined): Promise<Principal> {
    return (await this.verifyAccessClaims(token)).principal;
  }

  async verifyAccessClaims(token: string | undefined): Promise<AccessTokenClaims> {
    const payload = await this.verify(token, 'access');
    const claims = parseClaims(accessClaimsSchema, payload);
    const principal: Principal = { id: claims.sub, type: claims.principal_type, roles: claims.roles };
    if (claims.bindings) principal.bindings = claims.bindings;
    if (claims.email !== undefined) principal.email = claims.email;
    if (claims.tenant_id !== undefined) principal.tenantId = claims.tenant_id;
    if (claims.scopes !== undefined) principal.scopes = claims.scopes;
    const verified: AccessTokenClaims = { principal, sessionId: claims.session_id, expiresAt: new Date(claims.exp * 1000) };
    if (claims.authz_version !== undefined) verified.authzVersion = claims.authz_version;
    return verified;
  }

  async verifyRefresh(token: string | undefined): Promise<RefreshTokenClaims> {
    const claims = parseClaims(refreshClaimsSchema, await this.verify(token, 'refresh'));
    return { sub: claims.sub, sessionId: claims.session_id, jti: claims.jti };
  }

  private sign(claims: JWTPayload, subject: string, type: TokenType, ttlSeconds: number): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...claims, typ: type })
      .setProtectedHeader({ alg: ALGORITHM, kid: this.keyId, typ: 'JWT' })
      .setSubject(subject)
      .setJti(randomUUID())
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(this.privateKey);
  }

  private async verify(token: string | undefined, expected: TokenType): Promise<JWTPayload> {
    if (!token) throw new AuthException(AuthExceptionCode.TokenMissing, `${expected} token is missing`);
    let payload: JWTPayload;
    try {
      // Pinning the algorithm list is what defeats `alg: none` and the RS256→HS256 key-confusion attack.
      ({ payload } = await jwtVerify(token, this.publicKey, {
        algorithms: [ALGORITHM],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceSeconds,
        requiredClaims: ['sub', 'jti', 'iat', 'exp', 'typ'],
      }));
    } catch (error) {
      throw toAuthException(error, expected);
    }
    if (payload.typ !== expected) {
      throw new AuthException(
        AuthExceptionCode.TokenWrongType,
        `a ${String(payload.typ)} token was sent where a ${expected} token is required`,
      );
    }
    return payload;
  }
}

function toAuthException(error: unknown, expected: TokenType): AuthException {
  const invalid = (message: string): AuthException => new AuthException(AuthExceptionCode.TokenInvalid, message);
  if (error instanceof errors.JWTExpired) {
    return new AuthException(
      AuthExceptionCode.TokenExpired,
      expected === 'access' ? 'access token has expired; refresh it or log in again' : 'refresh token has expired; log in again',
    );
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return invalid('token was issued by an issuer this service does not accept');
    if (error.claim === 'aud') return invalid('token was issued for another audience');
    return invalid(`token claim ${error.claim} is missing or invalid`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return invalid(`token must be signed with ${ALGORITHM}`);
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid('token signature is invalid');
  if (error instanceof errors.JOSEError) return invalid('token is malformed');
  return invalid('token could not be verified');
}

function parseClaims<T>(schema: z.ZodType<T>, payload: JWTPayload): T {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    throw new AuthException(AuthExceptionCode.TokenInvalid, `token claims are invalid: ${firstIssue(parsed.error)}`);
  }
  return parsed.data;
}

function loadKeyPair(privateKeyPem?: string, publicKeyPem?: string): { privateKey: KeyObject; publicKey: KeyObject } {
  if (!privateKeyPem) {
    if (publicKeyPem) throw new Error('TokenService: a public key without its private key cannot sign tokens');
    return generateKeyPairSync('rsa', { modulusLength: MIN_RSA_BITS });
  }
  const privateKey = createPrivateKey(privateKeyPem);
  const publicKey = createPublicKey(publicKeyPem ?? privateKey);
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (privateKey.asymmetricKeyType !== 'rsa' || bits < MIN_RSA_BITS) {
    throw new Error(`TokenService: ${ALGORITHM} needs an RSA key of at least ${MIN_RSA_BITS} bits`);
  }
  // A mismatched pair would issue tokens that this very service rejects; fail at start-up instead.
  if (createPublicKey(privateKey).export({ format: 'jwk' }).n !== publicKey.export({ format: 'jwk' }).n) {
    throw new Error('TokenService: the public key does not belong to the private key');
  }
  return { privateKey, publicKey };
}

function positiveSeconds(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`TokenService: ${name} must be a positive integer`);
  return value;
}
