import { describe, expect, it } from '@jest/globals';
import type { Principal } from '@llmops/platform-auth';
import { GatewayErrorCode } from '../errors/gateway.exception.js';
import { rejection } from '../testing/route-testing.js';
import { assertMayGrant, mayGrant } from './role-delegation.js';

describe(assertMayGrant.name, () => {
  it('lets a global-admin grant anything and a tenant-admin anything below global-admin', () => {
    expect(mayGrant(['global-admin'], 'global-admin')).toBe(true);
    expect(mayGrant(['tenant-admin'], 'operator')).toBe(true);
    expect(mayGrant(['tenant-admin'], 'global-admin')).toBe(false);
    expect(mayGrant(['developer'], 'developer')).toBe(true);
    expect(mayGrant(['developer'], 'operator')).toBe(false);
  });

  it('counts only unconditional roles, and names what may not be granted', () => {
    const conditionalAdmin: Principal = {
      id: 'u',
      type: 'user',
      roles: ['viewer'],
      bindings: [{ role: 'global-admin', conditions: { ipAllowlist: ['10.0.0.0/8'] } }],
    };
    const error = rejection(() => assertMayGrant(conditionalAdmin, ['viewer', 'operator', 'operator']));
    expect(error.code).toBe(GatewayErrorCode.Forbidden);
    expect(error.message).toBe('you cannot grant roles you do not hold unconditionally: operator');
  });
});
