import { describe, expect, it } from '@jest/globals';
import type { Principal } from '../principal/principal.js';
import { authorize, permissionsOf, type AuthorizationDecision } from './authorize.js';
import { PERMISSIONS, type Permission } from './permissions.js';
import type { Role } from './roles.js';

const as = (role: Role, extra: Partial<Principal> = {}): Principal => ({ id: `u-${role}`, type: 'user', roles: [role], ...extra });
const allowed = (principal: Principal, permission: Permission, environment?: string): boolean =>
  authorize(principal, permission, { environment }).allowed;

describe(authorize.name, () => {
  describe('developer', () => {
    const developer = as('developer');

    it('reads and writes configs in development and base', () => {
      expect(allowed(developer, 'configs:write', 'development')).toBe(true);
      expect(allowed(developer, 'configs:write', 'base')).toBe(true);
      expect(allowed(developer, 'configs:read', 'development')).toBe(true);
    });

    it('only reads in staging, and says why a write is denied', () => {
      expect(allowed(developer, 'configs:read', 'staging')).toBe(true);
      expect(authorize(developer, 'configs:write', { environment: 'staging' })).toEqual({
        allowed: false,
        reason: 'role developer may not write configs in staging',
      });
    });

    it('has no access to production, not even reads', () => {
      expect(authorize(developer, 'configs:read', { environment: 'production' })).toEqual({
        allowed: false,
        reason: 'role developer may not read configs in production',
      });
      expect(allowed(developer, 'secrets:read', 'production')).toBe(false);
    });

    it('is denied an environment-scoped permission when the request names no environment', () => {
      const decision = authorize(developer, 'configs:write');
      expect(decision.allowed).toBe(false);
      expect(decision.reason).toContain('names no environment');
    });

    it('is denied unknown environments', () => {
      expect(allowed(developer, 'configs:read', 'qa')).toBe(false);
    });
  });

  it('viewer reads but never writes', () => {
    const viewer = as('viewer');
    expect(allowed(viewer, 'configs:read', 'production')).toBe(true);
    expect(allowed(viewer, 'audit:read')).toBe(true);
    expect(allowed(viewer, 'secrets:read', 'production')).toBe(true);
    expect(authorize(viewer, 'configs:write', { environment: 'development' })).toEqual({
      allowed: false,
      reason: 'role viewer may not write configs',
    });
    expect(allowed(viewer, 'secrets:reveal', 'development')).toBe(false);
  });

  it('operator updates configs and rotates secrets everywhere, but may not reveal or manage users', () => {
    const operator = as('operator');
    expect(allowed(operator, 'configs:write', 'production')).toBe(true);
    expect(allowed(operator, 'secrets:rotate', 'production')).toBe(true);
    expect(authorize(operator, 'secrets:reveal', { environment: 'production' })).toEqual({
      allowed: false,
      reason: 'role operator may not reveal secrets',
    });
    expect(allowed(operator, 'users:manage')).toBe(false);
  });

  it('service-account only reads configs and secret metadata, and records LLM usage', () => {
    const service = as('service-account', { type: 'service' });
    expect(allowed(service, 'configs:read', 'production')).toBe(true);
    expect(allowed(service, 'secrets:read', 'production')).toBe(true);
    expect(allowed(service, 'usage:record', 'production')).toBe(true);
    expect(allowed(service, 'configs:write', 'development')).toBe(false);
    expect(allowed(service, 'secrets:reveal', 'production')).toBe(false);
  });

  it('grants usage:record where configs:write is granted, and to service accounts', () => {
    expect(allowed(as('operator'), 'usage:record', 'production')).toBe(true);
    expect(allowed(as('tenant-admin'), 'usage:record', 'production')).toBe(true);
    expect(allowed(as('developer'), 'usage:record', 'development')).toBe(true);
    expect(authorize(as('developer'), 'usage:record', { environment: 'production' })).toEqual({
      allowed: false,
      reason: 'role developer may not record usage in production',
    });
    expect(authorize(as('viewer'), 'usage:record', { environment: 'production' })).toEqual({
      allowed: false,
      reason: 'role viewer may not record usage',
    });
  });

  it('global-admin holds every permission in every environment and tenant', () => {
    const admin = as('global-admin', { tenantId: 't1' });
    for (const permission of PERMISSIONS) {
      expect(authorize(admin, permission, { environment: 'production', tenantId: 't2' }).allowed).toBe(true);
    }
  });

  describe('tenant-admin', () => {
    const tenantAdmin = as('tenant-admin', { tenantId: 'acme' });

    it('does everything inside its tenant, including managing its users', () => {
      expect(authorize(tenantAdmin, 'secrets:reveal', { environment: 'production', tenantId: 'acme' }).allowed).toBe(true);
      expect(authorize(tenantAdmin, 'users:manage', { tenantId: 'acme' }).allowed).toBe(true);
    });

    it('may not act in another tenant', () => {
      expect(authorize(tenantAdmin, 'configs:read', { environment: 'production', tenantId: 'globex' })).toEqual({
        allowed: false,
        reason: 'role tenant-admin may not read configs in tenant globex',
      });
    });

    it('may not manage users or roles globally', () => {
      expect(authorize(tenantAdmin, 'users:manage').reason).toBe('role tenant-admin may manage users only inside its own tenant');
      expect(authorize(tenantAdmin, 'roles:manage').allowed).toBe(false);
    });
  });

  it('denies a principal without roles', () => {
    expect(authorize({ id: 'nobody', type: 'user', roles: [] }, 'configs:read', { environment: 'development' })).toEqual({
      allowed: false,
      reason: 'user nobody has no roles',
    });
  });

  it('grants the union of several roles', () => {
    const both = { id: 'u', type: 'user', roles: ['viewer', 'developer'] } satisfies Principal;
    expect(allowed(both, 'configs:write', 'development')).toBe(true);
    expect(allowed(both, 'audit:read')).toBe(true);
  });

  describe('API key scopes', () => {
    it('intersect with the role grants', () => {
      const key: Principal = { id: 'k1', type: 'api_key', roles: ['developer'], scopes: ['configs:read'] };
      expect(allowed(key, 'configs:read', 'development')).toBe(true);
      expect(authorize(key, 'configs:write', { environment: 'development' })).toEqual({
        allowed: false,
        reason: 'API key scopes do not include configs:write',
      });
      // A scope does not add what the roles lack.
      expect(allowed({ ...key, scopes: ['configs:read', 'configs:write'] }, 'configs:write', 'production')).toBe(false);
    });

    it('may narrow a key to recording usage alone', () => {
      const recorder: Principal = { id: 'k2', type: 'api_key', roles: ['service-account'], scopes: ['usage:record'] };
      expect(allowed(recorder, 'usage:record', 'production')).toBe(true);
      expect(allowed(recorder, 'configs:read', 'production')).toBe(false);
      expect(permissionsOf(recorder)).toEqual(['usage:record']);
    });

    it('narrow the permissions hint as well', () => {
      expect(permissionsOf({ id: 'k1', type: 'api_key', roles: ['operator'], scopes: ['configs:read', 'users:manage'] })).toEqual([
        'configs:read',
      ]);
    });
  });

  describe('ABAC conditions', () => {
    const businessHours: Principal = {
      id: 'u',
      type: 'user',
      roles: ['viewer'],
      bindings: [{ role: 'operator', conditions: { timeWindow: { days: [1, 2, 3, 4, 5], startHour: 9, endHour: 17 } } }],
    };
    const wednesday = (hour: number): Date => new Date(Date.UTC(2025, 0, 15, hour, 30));

    it('applies a binding inside its time window', () => {
      expect(authorize(businessHours, 'configs:write', { environment: 'production', now: wednesday(10) }).allowed).toBe(true);
    });

    it('ignores a binding outside its hours or days, while unconditional roles still apply', () => {
      const evening = authorize(businessHours, 'configs:write', { environment: 'production', now: wednesday(18) });
      expect(evening.allowed).toBe(false);
      expect(evening.reason).toContain('role operator is outside its time window');
      const saturday = new Date(Date.UTC(2025, 0, 18, 10));
      expect(authorize(businessHours, 'configs:write', { environment: 'production', now: saturday }).allowed).toBe(false);
      expect(authorize(businessHours, 'configs:read', { environment: 'production', now: saturday }).allowed).toBe(true);
    });

    it('supports windows that wrap past midnight', () => {
      const night: Principal = {
        id: 'u',
        type: 'user',
        roles: [],
        bindings: [{ role: 'operator', conditions: { timeWindow: { startHour: 22, endHour: 6 } } }],
      };
      expect(authorize(night, 'configs:write', { environment: 'production', now: wednesday(23) }).allowed).toBe(true);
      expect(authorize(night, 'configs:write', { environment: 'production', now: wednesday(3) }).allowed).toBe(true);
      expect(authorize(night, 'configs:write', { environment: 'production', now: wednesday(12) }).allowed).toBe(false);
    });

    const fromOffice: Principal = {
      id: 'u',
      type: 'user',
      roles: [],
      bindings: [{ role: 'operator', conditions: { ipAllowlist: ['10.20.0.0/16', '2001:db8:abcd::/48', '192.0.2.7'] } }],
    };
    const fromIp = (ip: string | undefined): boolean =>
      authorize(fromOffice, 'configs:write', { environment: 'production', ip }).allowed;

    it('matches IPv4 CIDRs, single addresses and IPv4-mapped IPv6 peers', () => {
      expect(fromIp('10.20.3.4')).toBe(true);
      expect(fromIp('::ffff:10.20.3.4')).toBe(true);
      expect(fromIp('192.0.2.7')).toBe(true);
      expect(fromIp('10.21.0.1')).toBe(false);
      expect(fromIp('192.0.2.8')).toBe(false);
    });

    it('matches IPv6 CIDRs', () => {
      expect(fromIp('2001:db8:abcd:12::1')).toBe(true);
      expect(fromIp('2001:db8:abce::1')).toBe(false);
    });

    it('denies when the client address is unknown or not an address', () => {
      expect(authorize(fromOffice, 'configs:write', { environment: 'production' }).reason).toContain('no client address');
      expect(fromIp('not-an-ip')).toBe(false);
    });

    it('denies when an allowlist entry is not a CIDR', () => {
      const broken: Principal = { id: 'u', type: 'user', roles: [], bindings: [{ role: 'viewer', conditions: { ipAllowlist: ['10.0.0.0/33'] } }] };
      const decision = authorize(broken, 'configs:read', { environment: 'production', ip: '10.0.0.1' });
      expect(decision.allowed).toBe(false);
      expect(decision.reason).toContain('is not a CIDR');
    });

    it('names the IP allowlist and the refused address', () => {
      expect(authorize(fromOffice, 'configs:write', { environment: 'production', ip: '127.0.0.1' }).reason).toBe(
        'role operator is restricted by an IP allowlist (10.20.0.0/16, 2001:db8:abcd::/48, 192.0.2.7) and client address 127.0.0.1 is not in it',
      );
    });

    it('evaluates a time window to the minute in its IANA time zone, days included', () => {
      // 09:30–17:15 Berlin time on weekdays; 2025-01-15 is a Wednesday, Berlin is UTC+1 in January.
      const berlin: Principal = {
        id: 'u',
        type: 'user',
        roles: [],
        bindings: [
          {
            role: 'operator',
            conditions: {
              timeWindow: { days: [1, 2, 3, 4, 5], startHour: 9, startMinute: 30, endHour: 17, endMinute: 15, timezone: 'Europe/Berlin' },
            },
          },
        ],
      };
      const at = (iso: string): AuthorizationDecision => authorize(berlin, 'configs:write', { environment: 'production', now: new Date(iso) });
      expect(at('2025-01-15T08:29:00Z').allowed).toBe(false);
      expect(at('2025-01-15T08:30:00Z').allowed).toBe(true);
      expect(at('2025-01-15T16:14:00Z').allowed).toBe(true);
      expect(at('2025-01-15T16:15:00Z').reason).toBe('role operator is outside its time window (09:30–17:15 Europe/Berlin on mon,tue,wed,thu,fri)');
      // Summer time: 09:30 Berlin is 07:30 UTC in July.
      expect(at('2025-07-16T07:30:00Z').allowed).toBe(true);
    });

    it('takes the day of the week in the time zone of the window', () => {
      const berlinSaturday: Principal = {
        id: 'u',
        type: 'user',
        roles: [],
        bindings: [{ role: 'viewer', conditions: { timeWindow: { days: [6], startHour: 0, endHour: 24, timezone: 'Europe/Berlin' } } }],
      };
      // Friday 23:30 UTC is Saturday 00:30 in Berlin.
      expect(authorize(berlinSaturday, 'audit:read', { now: new Date('2025-01-17T23:30:00Z') }).allowed).toBe(true);
      expect(authorize(berlinSaturday, 'audit:read', { now: new Date('2025-01-17T22:30:00Z') }).allowed).toBe(false);
    });

    it('fails closed on a time zone the runtime does not know', () => {
      const nowhere: Principal = {
        id: 'u',
        type: 'user',
        roles: [],
        bindings: [{ role: 'viewer', conditions: { timeWindow: { startHour: 0, endHour: 24, timezone: 'Mars/Olympus_Mons' } } }],
      };
      expect(authorize(nowhere, 'audit:read').reason).toContain('unknown time zone');
    });
  });

  describe('bindings narrowed to environments or a tenant', () => {
    const stagingOperator: Principal = { id: 'u', type: 'user', roles: [], bindings: [{ role: 'operator', environments: ['staging'] }] };

    it('grant environment-scoped permissions only in the bound environments', () => {
      expect(allowed(stagingOperator, 'configs:write', 'staging')).toBe(true);
      expect(authorize(stagingOperator, 'configs:write', { environment: 'production' }).reason).toBe(
        'role operator is bound to staging only, not production',
      );
      expect(authorize(stagingOperator, 'configs:read').reason).toBe(
        'role operator may read configs only in staging and the request names no environment',
      );
    });

    it('never widen a grant, and leave permissions that are not environment-scoped alone', () => {
      const developer: Principal = { id: 'u', type: 'user', roles: [], bindings: [{ role: 'developer', environments: ['staging', 'production'] }] };
      expect(allowed(developer, 'configs:read', 'staging')).toBe(true);
      expect(allowed(developer, 'configs:write', 'staging')).toBe(false);
      expect(allowed(developer, 'configs:read', 'production')).toBe(false);
      expect(allowed(stagingOperator, 'audit:read')).toBe(true);
    });

    it('check tenants against the tenant of the binding', () => {
      const acmeAdmin: Principal = { id: 'u', type: 'user', roles: [], bindings: [{ role: 'tenant-admin', tenantId: 'acme' }] };
      expect(authorize(acmeAdmin, 'users:manage', { tenantId: 'acme' }).allowed).toBe(true);
      expect(authorize(acmeAdmin, 'users:manage', { tenantId: 'globex' }).allowed).toBe(false);
      expect(authorize({ ...acmeAdmin, tenantId: 'globex' }, 'users:manage', { tenantId: 'globex' }).allowed).toBe(false);
    });
  });
});
