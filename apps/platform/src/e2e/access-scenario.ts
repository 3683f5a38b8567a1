import { randomUUID } from 'node:crypto';
import { expect } from '@jest/globals';
import { waitFor } from '@llmops/platform-testing';
import { call, login, type ApiResponse, type RunningPlatform } from './platform-harness.js';

const CONFIG = '/api/v1/configs/access-e2e/app/model';

/** `HH:00` of the UTC hour `offset` hours from now. */
function hourFromNow(offset: number): string {
  return `${String((new Date().getUTCHours() + offset) % 24).padStart(2, '0')}:00`;
}

/**
 * RBAC and ABAC as an administrator sets them up: a developer user writes in development, reads staging and sees
 * nothing of production; role bindings with a time window, an environment narrowing and a source-IP allowlist take
 * effect at the next request (old access tokens are refused); a disabled user is locked out; a tenant admin manages
 * its own tenant's users only; every change is audited.
 */
export async function walkAccessControl(platform: RunningPlatform): Promise<void> {
  const { baseUrl } = platform;
  const admin = await login(baseUrl);
  const expectStatus = (response: ApiResponse, status: number, mentions?: string): void => {
    expect({ status: response.status, body: response.body }).toMatchObject({ status });
    if (mentions) expect(response.body.error.message).toContain(mentions);
  };

  // An administrator creates a developer; the password never comes back.
  const email = `developer-${randomUUID().slice(0, 8)}@e2e.test`;
  const password = 'developer-password-42';
  expectStatus(await call(baseUrl, 'POST', '/api/v1/users', { token: admin, body: { email, password: 'too-short' } }), 400, 'password: must be at least 12');
  const created = await call(baseUrl, 'POST', '/api/v1/users', { token: admin, body: { email, password, roles: ['developer'] } });
  expectStatus(created, 201);
  expect(created.body).toEqual({
    id: expect.any(String),
    email,
    tenant_id: null,
    role_bindings: [{ role: 'developer' }],
    created_at: expect.any(String),
    updated_at: expect.any(String),
    disabled_at: null,
  });
  const userId: string = created.body.id;
  expectStatus(await call(baseUrl, 'POST', '/api/v1/users', { token: admin, body: { email: email.toUpperCase(), password } }), 409, 'email');
  expect((await call(baseUrl, 'GET', `/api/v1/users/${userId}`, { token: admin })).body).toEqual(created.body);
  const listed = await call(baseUrl, 'GET', '/api/v1/users?limit=1000', { token: admin });
  expect(listed.body.data.map((user: { id: string }) => user.id)).toContain(userId);
  expect(JSON.stringify(listed.body)).not.toMatch(/password/);
  expectStatus(await call(baseUrl, 'GET', '/api/v1/users/42', { token: admin }), 400, 'id: must be a user id');
  expectStatus(await call(baseUrl, 'GET', `/api/v1/users/${randomUUID()}`, { token: admin }), 404);

  for (const env of ['staging', 'production']) {
    expectStatus(await call(baseUrl, 'PUT', `${CONFIG}?env=${env}`, { token: admin, body: { value: { model: `${env}-model` } } }), 200);
  }

  // The developer: writes development, reads staging, nothing in production (seed 001 §3.2).
  let developer = await login(baseUrl, email, password);
  expectStatus(await call(baseUrl, 'PUT', `${CONFIG}?env=development`, { token: developer, body: { value: { model: 'dev-model' } } }), 200);
  const staging = await call(baseUrl, 'GET', `${CONFIG}?env=staging`, { token: developer });
  expectStatus(staging, 200);
  expect(staging.body.value).toEqual({ model: 'staging-model' });
  expectStatus(await call(baseUrl, 'PUT', `${CONFIG}?env=staging`, { token: developer, body: { value: 1 } }), 403, 'may not write configs in staging');
  expectStatus(await call(baseUrl, 'GET', `${CONFIG}?env=production`, { token: developer }), 403, 'may not read configs in production');
  expectStatus(await call(baseUrl, 'PUT', `${CONFIG}?env=production`, { token: developer, body: { value: 1 } }), 403, 'may not write configs in production');
  expectStatus(await call(baseUrl, 'POST', '/api/v1/users', { token: developer, body: { email: 'x@e2e.test', password } }), 403, 'manage users');
  expectStatus(await call(baseUrl, 'PUT', `/api/v1/users/${userId}/role-bindings`, { token: developer, body: { bindings: [{ role: 'global-admin' }] } }), 403, 'manage roles');

  // A time window that excludes now: the old token is refused, a new one carries the binding and is denied.
  const outsideNow = { role: 'developer', conditions: { time_window: { start: hourFromNow(2), end: hourFromNow(3), timezone: 'UTC' } } };
  const windowed = await call(baseUrl, 'PUT', `/api/v1/users/${userId}/role-bindings`, { token: admin, body: { bindings: [outsideNow] } });
  expectStatus(windowed, 200);
  expect(windowed.body).toEqual({ bindings: [outsideNow] });
  expectStatus(await call(baseUrl, 'GET', `${CONFIG}?env=development`, { token: developer }), 401, 'changed after this access token was issued');
  developer = await login(baseUrl, email, password);
  expectStatus(
    await call(baseUrl, 'PUT', `${CONFIG}?env=development`, { token: developer, body: { value: 2 } }),
    403,
    'role developer is outside its time window',
  );

  // Narrowed to development: staging reads stop too.
  const narrowed = { bindings: [{ role: 'developer', environments: ['development'] }] };
  expectStatus(await call(baseUrl, 'PUT', `/api/v1/users/${userId}/role-bindings`, { token: admin, body: narrowed }), 200);
  expect((await call(baseUrl, 'GET', `/api/v1/users/${userId}/role-bindings`, { token: admin })).body).toEqual(narrowed);
  developer = await login(baseUrl, email, password);
  expectStatus(await call(baseUrl, 'PUT', `${CONFIG}?env=development`, { token: developer, body: { value: 3 } }), 200);
  expectStatus(await call(baseUrl, 'GET', `${CONFIG}?env=staging`, { token: developer }), 403, 'bound to development only, not staging');

  // Bindings are validated and name the bad field; nobody edits their own.
  const bindingsOf = (binding: unknown): { bindings: unknown[] } => ({ bindings: [binding] });
  const putUserBindings = (body: unknown): Promise<ApiResponse> =>
    call(baseUrl, 'PUT', `/api/v1/users/${userId}/role-bindings`, { token: admin, body });
  expectStatus(await putUserBindings(bindingsOf({ role: 'developer', conditions: { source_ips: ['10.0.0.0/33'] } })), 400, 'bindings.0.conditions.source_ips.0');
  expectStatus(
    await putUserBindings(bindingsOf({ role: 'developer', conditions: { time_window: { start: '9am', end: '17:00', timezone: 'UTC' } } })),
    400,
    'bindings.0.conditions.time_window.start',
  );
  expectStatus(
    await putUserBindings(bindingsOf({ role: 'developer', conditions: { time_window: { start: '09:00', end: '17:00', timezone: 'Moon/Base' } } })),
    400,
    'bindings.0.conditions.time_window.timezone',
  );
  expectStatus(await putUserBindings(bindingsOf({ role: 'superuser' })), 400, 'unknown role "superuser"');
  expectStatus(await call(baseUrl, 'PUT', `/api/v1/users/${randomUUID()}/role-bindings`, { token: admin, body: narrowed }), 404);
  const adminId: string = (await call(baseUrl, 'GET', '/api/v1/users?limit=1000', { token: admin })).body.data.find(
    (user: { role_bindings: Array<{ role: string }> }) => user.role_bindings.some((binding) => binding.role === 'global-admin'),
  ).id;
  expectStatus(await call(baseUrl, 'PUT', `/api/v1/users/${adminId}/role-bindings`, { token: admin, body: narrowed }), 409, 'your own');

  // An API key bound to developer from an address range that excludes 127.0.0.1, then one that includes it.
  const key = await call(baseUrl, 'POST', '/api/v1/api-keys', { token: admin, body: { name: 'ci-deployer', roles: ['developer'] } });
  expectStatus(key, 201);
  const keyBindings = `/api/v1/api-keys/${key.body.id}/role-bindings`;
  const fromOffice = { role: 'developer', conditions: { source_ips: ['10.0.0.0/8'] } };
  expectStatus(await call(baseUrl, 'PUT', keyBindings, { token: admin, body: { bindings: [fromOffice] } }), 200);
  expectStatus(
    await call(baseUrl, 'PUT', `${CONFIG}?env=development`, { apiKey: key.body.key, body: { value: 4 } }),
    403,
    'role developer is restricted by an IP allowlist (10.0.0.0/8) and client address 127.0.0.1 is not in it',
  );
  const withLoopback = { role: 'developer', conditions: { source_ips: ['10.0.0.0/8', '127.0.0.1/32'] } };
  expectStatus(await call(baseUrl, 'PUT', keyBindings, { token: admin, body: { bindings: [withLoopback] } }), 200);
  expectStatus(await call(baseUrl, 'PUT', `${CONFIG}?env=development`, { apiKey: key.body.key, body: { value: 5 } }), 200);
  expectStatus(await call(baseUrl, 'GET', `${CONFIG}?env=production`, { apiKey: key.body.key }), 403, 'may not read configs in production');
  expect((await call(baseUrl, 'GET', keyBindings, { token: admin })).body).toEqual({ bindings: [withLoopback] });
  expectStatus(await call(baseUrl, 'PUT', '/api/v1/api-keys/not-a-key/role-bindings', { token: admin, body: narrowed }), 400, 'id: must be an API key id');

  // Disabling the user locks them out at their next request.
  const disabled = await call(baseUrl, 'DELETE', `/api/v1/users/${userId}`, { token: admin });
  expectStatus(disabled, 200);
  expect(disabled.body.disabled_at).toEqual(expect.any(String));
  expectStatus(await call(baseUrl, 'GET', `${CONFIG}?env=development`, { token: developer }), 401, 'disabled');
  expectStatus(await call(baseUrl, 'POST', '/api/v1/auth/login', { body: { email, password } }), 401, 'disabled');
  expectStatus(await call(baseUrl, 'DELETE', `/api/v1/users/${adminId}`, { token: admin }), 409, 'your own account');

  // A tenant admin manages its tenant's users only: others look missing, and global-admin is not its to grant.
  const tenant = `e2e-${randomUUID().slice(0, 8)}`;
  const tenantAdminEmail = `tenant-admin-${randomUUID().slice(0, 8)}@e2e.test`;
  const tenantAdminBody = { email: tenantAdminEmail, password, roles: ['tenant-admin'], tenant_id: tenant };
  expectStatus(await call(baseUrl, 'POST', '/api/v1/users', { token: admin, body: tenantAdminBody }), 201);
  const tenantAdmin = await login(baseUrl, tenantAdminEmail, password);
  const member = await call(baseUrl, 'POST', '/api/v1/users', {
    token: tenantAdmin,
    body: { email: `member-${randomUUID().slice(0, 8)}@e2e.test`, password, roles: ['developer'] },
  });
  expectStatus(member, 201);
  expect(member.body.tenant_id).toBe(tenant);
  const tenantUsers = await call(baseUrl, 'GET', '/api/v1/users?limit=1000', { token: tenantAdmin });
  expect(new Set(tenantUsers.body.data.map((user: { tenant_id: string }) => user.tenant_id))).toEqual(new Set([tenant]));
  expectStatus(
    await call(baseUrl, 'POST', '/api/v1/users', { token: tenantAdmin, body: { email: `x-${tenant}@e2e.test`, password, tenant_id: 'elsewhere' } }),
    403,
    'you cannot create a user in tenant elsewhere',
  );
  expectStatus(await call(baseUrl, 'GET', `/api/v1/users/${userId}`, { token: tenantAdmin }), 404);
  expectStatus(
    await call(baseUrl, 'PUT', `/api/v1/users/${member.body.id}/role-bindings`, { token: tenantAdmin, body: { bindings: [{ role: 'global-admin' }] } }),
    403,
    'global-admin',
  );
  expectStatus(await call(baseUrl, 'DELETE', `/api/v1/users/${member.body.id}`, { token: tenantAdmin }), 200);

  // Every change is in the audit log, under the user or the key it changed.
  const audited = async (resourceType: string, id: string): Promise<string[]> => {
    const page = await call(baseUrl, 'GET', `/api/v1/audit_logs?resource_type=${resourceType}&resource_id=${id}&limit=100`, { token: admin });
    expect(page.status).toBe(200);
    return page.body.data.map((entry: { event_type: string }) => entry.event_type).reverse();
  };
  const userTrail = await waitFor(
    async () => {
      const types = await audited('users', userId);
      return types.includes('user.disabled') && types.includes('authz.denied') ? types : undefined;
    },
    { timeoutMs: 20_000, message: 'the user changes did not reach the audit log' },
  );
  // The last entry is the tenant admin's read that was answered 404.
  expect(userTrail.filter((type) => type !== 'auth.login_succeeded' && type !== 'auth.login_failed')).toEqual([
    'user.created',
    'role_binding.changed',
    'role_binding.changed',
    'user.disabled',
    'authz.denied',
  ]);
  const memberCreated = await waitFor(
    async () => {
      const page = await call(baseUrl, 'GET', `/api/v1/audit_logs?resource_type=users&resource_id=${member.body.id}&event_type=user.created`, {
        token: admin,
      });
      return page.body.data?.[0];
    },
    { timeoutMs: 20_000, message: "the tenant admin's user creation did not reach the audit log" },
  );
  expect(memberCreated.details.tenant_id).toBe(tenant);
  const keyTrail = await waitFor(
    async () => {
      const types = await audited('api-keys', key.body.id);
      return types.filter((type) => type === 'role_binding.changed').length === 2 ? types : undefined;
    },
    { timeoutMs: 20_000, message: 'the API key binding changes did not reach the audit log' },
  );
  expect(keyTrail).toEqual(['api_key.created', 'role_binding.changed', 'role_binding.changed']);
  const change = (await call(baseUrl, 'GET', `/api/v1/audit_logs?resource_type=api-keys&resource_id=${key.body.id}&event_type=role_binding.changed&limit=1`, { token: admin })).body.data[0];
  expect(change).toMatchObject({ action: 'changed', actor_type: 'user', source: 'api-gateway' });
  expect(JSON.parse(change.details.bindings)).toEqual([withLoopback]);
  expect(JSON.parse(change.details.previous_bindings)).toEqual([fromOffice]);
}
