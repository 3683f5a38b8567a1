import { describe, expect, it } from '@jest/globals';
import { AuthException, AuthExceptionCode } from '../exceptions/auth.exception.js';
import type { Principal } from './principal.js';
import { principalFromMetadata, principalToMetadata } from './principal-metadata.js';

function rejection(run: () => unknown): AuthException {
  try {
    run();
  } catch (error) {
    if (error instanceof AuthException) return error;
    throw error;
  }
  throw new Error('expected an AuthException');
}

describe('principal metadata', () => {
  it('round-trips a principal with scopes, tenant and conditional bindings', () => {
    const principal: Principal = {
      id: 'k1',
      type: 'api_key',
      email: 'dev@example.com',
      roles: ['developer', 'viewer'],
      tenantId: 'acme',
      scopes: ['configs:read'],
      bindings: [
        { role: 'operator', conditions: { ipAllowlist: ['10.0.0.0/8'], timeWindow: { startHour: 9, endHour: 17 } } },
        {
          role: 'developer',
          environments: ['development'],
          tenantId: 'acme',
          conditions: { timeWindow: { days: [1, 2], startHour: 8, startMinute: 30, endHour: 18, endMinute: 45, timezone: 'America/New_York' } },
        },
      ],
    };
    const metadata = principalToMetadata(principal, 'req-1', { ip: '10.0.0.1', userAgent: 'cli/1.0' });
    expect(metadata).toMatchObject({
      'x-actor-id': 'k1',
      'x-actor-type': 'api_key',
      'x-actor-roles': 'developer,viewer',
      'x-actor-email': 'dev@example.com',
      'x-request-id': 'req-1',
      'x-actor-ip': '10.0.0.1',
      'x-actor-user-agent': 'cli/1.0',
    });
    expect(principalFromMetadata(metadata)).toEqual(principal);
  });

  it('returns undefined when the call carries no principal', () => {
    expect(principalFromMetadata({})).toBeUndefined();
    expect(principalFromMetadata({ 'x-request-id': 'req-1' })).toBeUndefined();
  });

  it('rejects an unknown role', () => {
    const error = rejection(() =>
      principalFromMetadata({ 'x-actor-id': 'u1', 'x-actor-type': 'user', 'x-actor-roles': 'viewer,superuser' }),
    );
    expect(error.code).toBe(AuthExceptionCode.PrincipalInvalid);
    expect(error.message).toContain('unknown role "superuser"');
  });

  it('rejects an unknown principal type, scope or malformed bindings', () => {
    const base = { 'x-actor-id': 'u1', 'x-actor-type': 'user', 'x-actor-roles': 'viewer' };
    expect(rejection(() => principalFromMetadata({ ...base, 'x-actor-type': 'robot' })).code).toBe(AuthExceptionCode.PrincipalInvalid);
    expect(rejection(() => principalFromMetadata({ ...base, 'x-actor-scopes': 'configs:nuke' })).code).toBe(
      AuthExceptionCode.PrincipalInvalid,
    );
    expect(rejection(() => principalFromMetadata({ ...base, 'x-actor-bindings': '{oops' })).message).toContain('is not JSON');
    expect(
      rejection(() => principalFromMetadata({ ...base, 'x-actor-bindings': JSON.stringify([{ role: 'viewer', conditions: { ipAllowlist: ['x'] } }]) }))
        .code,
    ).toBe(AuthExceptionCode.PrincipalInvalid);
  });

  it('accepts a principal with no roles (it is then denied everything)', () => {
    expect(principalFromMetadata({ 'x-actor-id': 'svc', 'x-actor-type': 'service', 'x-actor-roles': '' })).toEqual({
      id: 'svc',
      type: 'service',
      roles: [],
    });
  });
});
