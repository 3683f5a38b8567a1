import { createHmac, generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader, SignJWT, type JWTPayload } from 'jose';
import { AuthException, AuthExceptionCode } from '../exceptions/auth.exception.js';
import type { Principal } from '../principal/principal.js';
import { TokenService } from './token.service.js';

const ISSUER = 'llmops-test';
const AUDIENCE = 'llmops';
const keyPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKeyPem = keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const publicKeyPem = keyPair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const developer: Principal = { id: 'user-1', type: 'user', email: 'dev@example.com', roles: ['developer'] };

async function rejection(promise: Promise<unknown>): Promise<AuthException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AuthException) return error;
    throw error;
  }
  throw new Error('expected an AuthException');
}

const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token with valid claims, signed by `signer` (our key unless stated otherwise). */
function craft(claims: JWTPayload, signer = keyPair.privateKey): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ typ: 'access', roles: ['developer'], session_id: 's1', principal_type: 'user', ...claims })
    .setProtectedHeader({ alg: 'RS256' })
    .setSubject('user-1')
    .setJti('jti-1')
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now - 60)
    .setExpirationTime(claims.exp ?? now + 600)
    .sign(signer);
}

describe(TokenService.name, () => {
  let tokens: TokenService;
  beforeAll(async () => {
    tokens = await TokenService.create({ privateKeyPem, publicKeyPem, issuer: ISSUER, audience: AUDIENCE });
  });

  it('issues a Bearer pair whose access token verifies back to the principal', async () => {
    const pair = await tokens.issue(developer, 'session-1');
    expect(pair).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    expect(await tokens.verifyAccess(pair.access_token)).toEqual(developer);
  });

  it('puts the documented claims in the access token, signed RS256 with the JWKS key id', async () => {
    const pair = await tokens.issue({ ...developer, scopes: ['configs:read'] }, 'session-1');
    const claims = decodeJwt(pair.access_token);
    expect(claims).toMatchObject({
      sub: 'user-1',
      typ: 'access',
      roles: ['developer'],
      permissions: ['configs:read'],
      session_id: 'session-1',
      iss: ISSUER,
      aud: AUDIENCE,
    });
    expect(claims.exp! - claims.iat!).toBe(900);
    expect(typeof claims.jti).toBe('string');
    const header = decodeProtectedHeader(pair.access_token);
    expect(header.alg).toBe('RS256');
    expect(tokens.jwks().keys).toEqual([expect.objectContaining({ kty: 'RSA', kid: header.kid, alg: 'RS256', use: 'sig' })]);
    expect(tokens.jwks().keys[0]).not.toHaveProperty('d');
  });

  it('round-trips scopes, tenant and conditional bindings', async () => {
    const apiKey: Principal = {
      id: 'k1',
      type: 'api_key',
      roles: [],
      tenantId: 'acme',
      scopes: ['configs:read'],
      bindings: [
        { role: 'viewer', conditions: { ipAllowlist: ['10.0.0.0/8'] } },
        {
          role: 'developer',
          environments: ['development'],
          tenantId: 'acme',
          conditions: { timeWindow: { startHour: 9, startMinute: 30, endHour: 17, timezone: 'Europe/Berlin' } },
        },
      ],
    };
    const pair = await tokens.issue(apiKey, 's');
    expect(await tokens.verifyAccess(pair.access_token)).toEqual(apiKey);
  });

  it('stamps the authorization version it was given and reports it with the session and expiry', async () => {
    const pair = await tokens.issue(developer, 'session-1', { authzVersion: 7 });
    const verified = await tokens.verifyAccessClaims(pair.access_token);
    expect(verified).toEqual({ principal: developer, sessionId: 'session-1', authzVersion: 7, expiresAt: expect.any(Date) });
    expect(verified.expiresAt.getTime()).toBe(decodeJwt(pair.access_token).exp! * 1000);
    expect(await tokens.verifyAccessClaims((await tokens.issue(developer, 's')).access_token)).not.toHaveProperty('authzVersion');
  });

  it('verifies a refresh token to its subject, session and jti', async () => {
    const pair = await tokens.issue(developer, 'session-1');
    const claims = await tokens.verifyRefresh(pair.refresh_token);
    expect(claims).toEqual({ sub: 'user-1', sessionId: 'session-1', jti: decodeJwt(pair.refresh_token).jti });
    expect(decodeJwt(pair.refresh_token)).not.toHaveProperty('roles');
  });

  it('rejects a refresh token used as an access token, and the reverse', async () => {
    const pair = await tokens.issue(developer, 'session-1');
    expect((await rejection(tokens.verifyAccess(pair.refresh_token))).code).toBe(AuthExceptionCode.TokenWrongType);
    expect((await rejection(tokens.verifyRefresh(pair.access_token))).code).toBe(AuthExceptionCode.TokenWrongType);
  });

  it('rejects a missing token', async () => {
    expect((await rejection(tokens.verifyAccess(''))).code).toBe(AuthExceptionCode.TokenMissing);
    expect((await rejection(tokens.verifyAccess(undefined))).code).toBe(AuthExceptionCode.TokenMissing);
  });

  it('rejects an expired token with an actionable message', async () => {
    const expired = await craft({ exp: Math.floor(Date.now() / 1000) - 3600 });
    const error = await rejection(tokens.verifyAccess(expired));
    expect(error.code).toBe(AuthExceptionCode.TokenExpired);
    expect(error.message).toBe('access token has expired; refresh it or log in again');
  });

  it('rejects a token signed by another key, without echoing the token', async () => {
    const forged = await craft({}, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    const error = await rejection(tokens.verifyAccess(forged));
    expect(error.code).toBe(AuthExceptionCode.TokenInvalid);
    expect(error.message).toBe('token signature is invalid');
    expect(error.message).not.toContain(forged);
  });

  it('rejects a token whose signature was stripped with alg none', async () => {
    const payload = decodeJwt(await craft({ roles: ['global-admin'] }));
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
    expect((await rejection(tokens.verifyAccess(unsigned))).code).toBe(AuthExceptionCode.TokenInvalid);
  });

  it('rejects HS256 signed with the public key (algorithm confusion)', async () => {
    const payload = decodeJwt(await craft({ roles: ['global-admin'] }));
    const signingInput = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
    const mac = createHmac('sha256', publicKeyPem).update(signingInput).digest('base64url');
    const error = await rejection(tokens.verifyAccess(`${signingInput}.${mac}`));
    expect(error.code).toBe(AuthExceptionCode.TokenInvalid);
    expect(error.message).toBe('token must be signed with RS256');
  });

  it('rejects a wrong issuer or audience', async () => {
    const otherIssuer = await TokenService.create({ privateKeyPem, issuer: 'someone-else', audience: AUDIENCE });
    const otherAudience = await TokenService.create({ privateKeyPem, issuer: ISSUER, audience: 'another-api' });
    const fromOtherIssuer = (await otherIssuer.issue(developer, 's')).access_token;
    const forOtherAudience = (await otherAudience.issue(developer, 's')).access_token;
    expect((await rejection(tokens.verifyAccess(fromOtherIssuer))).code).toBe(AuthExceptionCode.TokenInvalid);
    expect((await rejection(tokens.verifyAccess(forOtherAudience))).message).toBe('token was issued for another audience');
  });

  it('rejects malformed tokens and tokens carrying an unknown role', async () => {
    expect((await rejection(tokens.verifyAccess('not.a.jwt'))).code).toBe(AuthExceptionCode.TokenInvalid);
    const unknownRole = await craft({ roles: ['root'] });
    const error = await rejection(tokens.verifyAccess(unknownRole));
    expect(error.code).toBe(AuthExceptionCode.TokenInvalid);
    expect(error.message).toContain('unknown role "root"');
  });

  it('generates its own key pair when given none, and refuses a mismatched pair', async () => {
    const embedded = await TokenService.create({ issuer: ISSUER, audience: AUDIENCE, accessTtlSeconds: 60 });
    const pair = await embedded.issue(developer, 's');
    expect(pair.expires_in).toBe(60);
    expect(await embedded.verifyAccess(pair.access_token)).toEqual(developer);
    expect((await rejection(tokens.verifyAccess(pair.access_token))).code).toBe(AuthExceptionCode.TokenInvalid);

    const otherPublic = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    await expect(TokenService.create({ privateKeyPem, publicKeyPem: otherPublic, issuer: ISSUER, audience: AUDIENCE })).rejects.toThrow(
      'does not belong to the private key',
    );
  });
});
