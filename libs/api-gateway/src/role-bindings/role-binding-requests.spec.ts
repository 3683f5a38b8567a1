import { describe, expect, it } from '@jest/globals';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { GatewayErrorCode } from '../errors/gateway.exception.js';
import { rejection, validationMessage } from '../testing/route-testing.js';
import { apiKeyIdOf, roleBindingOf, roleBindingsBody, userIdOf } from './role-binding-requests.js';
import { viewOfBinding } from './role-binding-views.js';

const pipe = new ZodBodyPipe(roleBindingsBody);
const problemWith = (binding: unknown): string => validationMessage(() => pipe.transform({ bindings: [binding] }));

describe('role binding requests', () => {
  it('turns a binding into the authorization model and shows it back unchanged', () => {
    const body = {
      bindings: [
        { role: 'viewer' },
        {
          role: 'developer',
          environments: ['development', 'staging', 'development'],
          tenant_id: 'acme',
          conditions: {
            time_window: { days: ['fri', 'mon'], start: '09:30', end: '17:00', timezone: 'Europe/Berlin' },
            source_ips: ['10.0.0.0/8', ' 127.0.0.1/32', '2001:db8::/32'],
          },
        },
      ],
    };
    const bindings = pipe.transform(body).bindings.map(roleBindingOf);
    expect(bindings).toEqual([
      { role: 'viewer' },
      {
        role: 'developer',
        environments: ['development', 'staging'],
        tenantId: 'acme',
        conditions: {
          timeWindow: { days: [1, 5], startHour: 9, startMinute: 30, endHour: 17, timezone: 'Europe/Berlin' },
          ipAllowlist: ['10.0.0.0/8', '127.0.0.1/32', '2001:db8::/32'],
        },
      },
    ]);
    expect(bindings.map(viewOfBinding)).toEqual([
      { role: 'viewer' },
      {
        role: 'developer',
        environments: ['development', 'staging'],
        tenant_id: 'acme',
        conditions: {
          time_window: { days: ['mon', 'fri'], start: '09:30', end: '17:00', timezone: 'Europe/Berlin' },
          source_ips: ['10.0.0.0/8', '127.0.0.1/32', '2001:db8::/32'],
        },
      },
    ]);
  });

  it('accepts a window that wraps past midnight and one that ends at 24:00', () => {
    const window = (start: string, end: string): unknown => ({ role: 'operator', conditions: { time_window: { start, end, timezone: 'UTC' } } });
    expect(roleBindingOf(pipe.transform({ bindings: [window('22:00', '06:00')] }).bindings[0]!).conditions?.timeWindow).toEqual({
      startHour: 22,
      endHour: 6,
      timezone: 'UTC',
    });
    expect(pipe.transform({ bindings: [window('00:00', '24:00')] }).bindings).toHaveLength(1);
  });

  it('names an unknown role and lists the known ones', () => {
    expect(problemWith({ role: 'root' })).toBe(
      'bindings.0.role: unknown role "root"; known roles are global-admin, tenant-admin, operator, developer, viewer, service-account',
    );
  });

  it('names a source IP that is not a CIDR', () => {
    for (const entry of ['10.0.0.0/33', '10.0.0', 'localhost', '10.0.0.0/8/1', '']) {
      expect(problemWith({ role: 'viewer', conditions: { source_ips: ['10.0.0.0/8', entry] } })).toBe(
        'bindings.0.conditions.source_ips.1: must be a CIDR such as 10.0.0.0/8 or 127.0.0.1/32',
      );
    }
    expect(problemWith({ role: 'viewer', conditions: { source_ips: [] } })).toMatch(/^bindings\.0\.conditions\.source_ips: must list at least one/);
  });

  it('names times that are not HH:MM and a start equal to the end', () => {
    const window = (fields: Record<string, unknown>): unknown => ({
      role: 'viewer',
      conditions: { time_window: { start: '09:00', end: '17:00', timezone: 'UTC', ...fields } },
    });
    expect(problemWith(window({ start: '9:00' }))).toBe('bindings.0.conditions.time_window.start: must be a time HH:MM such as 09:00');
    expect(problemWith(window({ start: '24:00' }))).toMatch(/^bindings\.0\.conditions\.time_window\.start: /);
    expect(problemWith(window({ end: '17:60' }))).toBe('bindings.0.conditions.time_window.end: must be a time HH:MM such as 17:30, or 24:00');
    expect(problemWith(window({ end: '09:00' }))).toBe('bindings.0.conditions.time_window.end: must differ from start');
    expect(problemWith(window({ days: ['monday'] }))).toBe('bindings.0.conditions.time_window.days.0: must be one of sun, mon, tue, wed, thu, fri, sat');
  });

  it('requires an IANA time zone the runtime knows', () => {
    const withZone = (timezone: unknown): unknown => ({ role: 'viewer', conditions: { time_window: { start: '09:00', end: '17:00', timezone } } });
    for (const zone of ['Mars/Olympus_Mons', '+01:00', 'Europe/', '']) {
      expect(problemWith(withZone(zone))).toBe(
        'bindings.0.conditions.time_window.timezone: must be an IANA time zone such as Europe/Berlin or UTC',
      );
    }
    expect(problemWith({ role: 'viewer', conditions: { time_window: { start: '09:00', end: '17:00' } } })).toMatch(
      /^bindings\.0\.conditions\.time_window\.timezone: /,
    );
    expect(pipe.transform({ bindings: [withZone('America/Argentina/Buenos_Aires')] }).bindings).toHaveLength(1);
  });

  it('names unknown fields, bad environments and tenants', () => {
    expect(problemWith({ role: 'viewer', expires: 'never' })).toBe('unknown field(s): expires');
    expect(problemWith({ role: 'viewer', conditions: { mfa: true } })).toBe('unknown field(s): mfa');
    expect(problemWith({ role: 'viewer', environments: [] })).toMatch(/^bindings\.0\.environments: must name at least one/);
    expect(problemWith({ role: 'viewer', environments: ['Prod uction'] })).toBe(
      'bindings.0.environments.0: must be an environment name such as development',
    );
    expect(problemWith({ role: 'viewer', tenant_id: 'a/b' })).toMatch(/^bindings\.0\.tenant_id: /);
    expect(validationMessage(() => pipe.transform({ bindings: 'viewer' }))).toMatch(/^bindings: /);
    expect(validationMessage(() => pipe.transform({}))).toMatch(/^bindings: /);
  });

  it('refuses path ids that are not user or API key ids with a 400 naming the parameter', () => {
    expect(userIdOf('0B7E1B2C-3D4E-4F50-8A6B-7C8D9E0F1A2B')).toBe('0b7e1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b');
    expect(apiKeyIdOf('AbCdEfGhIjKlMnOpQ')).toBe('AbCdEfGhIjKlMnOpQ');
    for (const run of [() => userIdOf('42'), () => userIdOf(undefined), () => apiKeyIdOf('short'), () => apiKeyIdOf("x'; --")]) {
      const error = rejection(run);
      expect(error.code).toBe(GatewayErrorCode.ValidationError);
      expect(error.message).toMatch(/^id: must be/);
    }
  });
});
