import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SecurityEventType, type EventEnvelope } from '@llmops/contracts';
import { decodeEvent, InProcessBus } from '@llmops/platform-messaging';
import { createLogger, createMetricsRegistry } from '@llmops/platform-observability';
import { createTestDatabase, type TestDatabase } from '@llmops/platform-testing';
import { decodeJwt } from 'jose';
import pg from 'pg';
import { loadApiGatewayEnv } from '../api-gateway.env.js';
import { ApiGatewayHost } from '../api-gateway.host.js';
import { GATEWAY_SCHEMA } from '../migrations/1763800000000-CreateIdentity.js';
import { answerOf, sendJson, type HttpAnswer } from '../testing/route-testing.js';

const ADMIN_EMAIL = 'admin@tenants.test';
const PASSWORD = 'a-long-enough-password';
/** Nothing listens here: these routes never call the gRPC services. */
const NO_UPSTREAM = '127.0.0.1:1';

/**
 * Tenant-scoped identity management on the real gateway (its own bootstrap, migrations and guard) and PostgreSQL: a
 * tenant admin manages the users of its tenant and their keys, and nothing else; a global admin everything.
 */
describe('tenant-scoped users and role bindings', () => {
  let database: TestDatabase;
  let dataDir: string;
  let bus: InProcessBus;
  let host: ApiGatewayHost;
  let reader: pg.Client;
  let baseUrl: string;
  let admin: string;
  let acmeAdmin: { id: string; token: string };
  let globexUser: { id: string; email: string };
  let platformUser: { id: string };

  const call = (method: string, path: string, token: string, body?: unknown): Promise<HttpAnswer> =>
    sendJson(baseUrl, method, path, body, { authorization: `Bearer ${token}` });

  const login = async (email: string): Promise<string> => {
    const answer = await sendJson(baseUrl, 'POST', '/api/v1/auth/login', { email, password: PASSWORD });
    expect(answer.statusCode).toBe(200);
    return answer.json().access_token;
  };

  const createUser = async (token: string, body: Record<string, unknown>): Promise<HttpAnswer> =>
    call('POST', '/api/v1/users', token, { email: `${randomUUID().slice(0, 8)}@tenants.test`, password: PASSWORD, ...body });

  const expectError = (answer: HttpAnswer, status: number, message: string | RegExp): void => {
    expect({ status: answer.statusCode, message: answer.json().error?.message }).toEqual({
      status,
      message: typeof message === 'string' ? message : expect.stringMatching(message),
    });
  };

  const events = async (type: SecurityEventType, subject?: string): Promise<EventEnvelope[]> => {
    const { rows } = await reader.query<{ envelope: Buffer }>(`SELECT envelope FROM ${GATEWAY_SCHEMA}.outbox ORDER BY seq`);
    return rows.map((row) => decodeEvent(row.envelope)).filter((event) => event.type === type && (!subject || event.subject === subject));
  };

  beforeAll(async () => {
    database = await createTestDatabase({ prefix: 'gateway_tenants' });
    dataDir = await mkdtemp(join(tmpdir(), 'gateway-tenants-'));
    bus = new InProcessBus();
    host = new ApiGatewayHost(
      loadApiGatewayEnv({
        DATABASE_URL: database.url,
        DATA_DIR: dataDir,
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: '0',
        CONFIG_MANAGER_URL: NO_UPSTREAM,
        AUDIT_SERVICE_URL: NO_UPSTREAM,
        SECRET_SERVICE_URL: NO_UPSTREAM,
        ADMIN_EMAIL,
        ADMIN_PASSWORD: PASSWORD,
      }),
      {
        logger: createLogger({ service: 'gateway-tenants-test', version: 'test', level: 'silent' }),
        registry: createMetricsRegistry({ service: 'gateway-tenants-test', collectDefaults: false }),
        eventBus: () => bus,
      },
    );
    await host.start();
    baseUrl = `http://127.0.0.1:${host.port}`;
    reader = new pg.Client({ connectionString: database.url });
    await reader.connect();

    admin = await login(ADMIN_EMAIL);
    const acme = await createUser(admin, { roles: ['tenant-admin'], tenant_id: 'acme' });
    expect(acme.statusCode).toBe(201);
    acmeAdmin = { id: acme.json().id, token: await login(acme.json().email) };
    const globex = await createUser(admin, { roles: ['developer'], tenant_id: 'globex' });
    globexUser = { id: globex.json().id, email: globex.json().email };
    platformUser = { id: (await createUser(admin, { roles: ['viewer'] })).json().id };
  });

  afterAll(async () => {
    await reader?.end();
    await host?.stop();
    await bus?.close();
    await rm(dataDir, { recursive: true, force: true });
    await database?.drop();
  });

  // Gateway-wide (a hook before every route), checked here because this suite runs the real gateway.
  it('answers 400 to NUL characters and absurdly nested bodies on any route, before a service or the database sees them', async () => {
    // Written out as text: JSON.stringify itself gives up long before 5,000 levels.
    const nested = `${'['.repeat(5_000)}"leaf"${']'.repeat(5_000)}`;
    const raw = async (method: string, path: string, body: string): Promise<HttpAnswer> =>
      answerOf(await fetch(baseUrl + path, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body }));
    const deep = await raw('PUT', '/api/v1/configs/acme/app/deep?env=development', `{"value": ${nested}}`);
    expectError(deep, 400, /^the body nests deeper than 64 levels \(at body\.value(\[0\])+\)$/);
    expectError(await raw('POST', '/api/v1/users', `{"email": "deep@tenants.test", "roles": ${nested}}`), 400, /^the body nests deeper than 64 levels/);
    expectError(
      await call('PUT', '/api/v1/configs/acme/app/nul?env=development', admin, { value: { note: 'a\u0000b' } }),
      400,
      'body.value.note contains a NUL character (\\u0000), which no name or value may hold',
    );
    expectError(await call('POST', '/api/v1/api-keys', admin, { name: '\u0000' }), 400, /^body\.name contains a NUL character/);
    expectError(await call('DELETE', '/api/v1/api-keys/%00', admin), 400, 'the URL contains a NUL character (%00), which no name or value may hold');
    expectError(await call('GET', '/api/v1/audit_logs?actor_id=%00', admin), 400, /^the URL contains a NUL character/);
    // A body as deep as configuration needs passes the check: the route itself answers, here about its unknown field.
    let fine: unknown = 1;
    for (let level = 0; level < 60; level++) fine = { a: fine };
    expectError(await createUser(admin, { roles: ['viewer'], profile: fine }), 400, /unknown field\(s\): profile/);
  });

  it("carries the user's tenant in its access token", () => {
    expect(decodeJwt(acmeAdmin.token)).toMatchObject({ sub: acmeAdmin.id, tenant_id: 'acme', roles: ['tenant-admin'] });
    expect(decodeJwt(admin).tenant_id).toBeUndefined();
  });

  it('lets a tenant admin create, list, read, rebind and disable the users of its own tenant', async () => {
    const created = await createUser(acmeAdmin.token, { roles: ['developer'] });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ tenant_id: 'acme', role_bindings: [{ role: 'developer' }], disabled_at: null });
    const named = await createUser(acmeAdmin.token, { tenant_id: 'acme' });
    expect(named.statusCode).toBe(201);
    expect(named.json().tenant_id).toBe('acme');
    const userId: string = created.json().id;

    for (const path of ['/api/v1/users?limit=1000', '/api/v1/users?tenant_id=acme&limit=1000']) {
      const listed = await call('GET', path, acmeAdmin.token);
      expect(listed.statusCode).toBe(200);
      const ids = listed.json().data.map((user: { id: string }) => user.id);
      expect(ids).toEqual(expect.arrayContaining([acmeAdmin.id, userId, named.json().id]));
      expect(ids).not.toContain(globexUser.id);
      expect(ids).not.toContain(platformUser.id);
      expect(new Set(listed.json().data.map((user: { tenant_id: string }) => user.tenant_id))).toEqual(new Set(['acme']));
    }
    const paged = await call('GET', '/api/v1/users?limit=1', acmeAdmin.token);
    expect(paged.json().data).toHaveLength(1);
    expect(paged.json().next_cursor).toEqual(expect.any(String));
    expect((await call('GET', `/api/v1/users/${userId}`, acmeAdmin.token)).json()).toEqual(created.json());

    const bindings = [{ role: 'operator' }, { role: 'developer', environments: ['development'], tenant_id: 'acme' }];
    const rebound = await call('PUT', `/api/v1/users/${userId}/role-bindings`, acmeAdmin.token, { bindings });
    expect(rebound.statusCode).toBe(200);
    expect((await call('GET', `/api/v1/users/${userId}/role-bindings`, acmeAdmin.token)).json()).toEqual({ bindings });

    const disabled = await call('DELETE', `/api/v1/users/${userId}`, acmeAdmin.token);
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json()).toMatchObject({ id: userId, tenant_id: 'acme', disabled_at: expect.any(String) });
    expectError(await call('DELETE', `/api/v1/users/${acmeAdmin.id}`, acmeAdmin.token), 409, 'you cannot disable your own account');
  });

  it("rebinds the API keys of its tenant's users, and its own keys act in its tenant", async () => {
    const member = await createUser(acmeAdmin.token, { roles: ['developer'] });
    const memberToken = await login(member.json().email);
    const key = await call('POST', '/api/v1/api-keys', memberToken, { name: 'acme-ci' });
    expect(key.statusCode).toBe(201);
    const rebound = await call('PUT', `/api/v1/api-keys/${key.json().id}/role-bindings`, acmeAdmin.token, { bindings: [{ role: 'viewer' }] });
    expect(rebound.statusCode).toBe(200);

    const adminKey = await call('POST', '/api/v1/api-keys', acmeAdmin.token, { name: 'acme-admin-automation' });
    const listed = await sendJson(baseUrl, 'GET', '/api/v1/users?limit=1000', undefined, { 'x-api-key': adminKey.json().key });
    expect(listed.statusCode).toBe(200);
    expect(new Set(listed.json().data.map((user: { tenant_id: string }) => user.tenant_id))).toEqual(new Set(['acme']));
  });

  it('refuses (403) a tenant admin a user in another tenant and says why', async () => {
    expectError(
      await createUser(acmeAdmin.token, { tenant_id: 'globex' }),
      403,
      'you cannot create a user in tenant globex: role tenant-admin may manage users only inside its own tenant',
    );
    expectError(
      await call('GET', '/api/v1/users?tenant_id=globex', acmeAdmin.token),
      403,
      'you cannot list the users of tenant globex: role tenant-admin may manage users only inside its own tenant',
    );
    const developer = await login(globexUser.email);
    expectError(await call('GET', '/api/v1/users', developer), 403, 'role developer may not manage users');
  });

  it("answers a tenant admin 404 for other tenants' and platform-wide users and their keys, and changes nothing", async () => {
    const globexKey = await call('POST', '/api/v1/api-keys', await login(globexUser.email), { name: 'globex-ci' });
    const adminKey = await call('POST', '/api/v1/api-keys', admin, { name: 'platform-ci' });
    for (const id of [globexUser.id, platformUser.id]) {
      const missing = `user ${id} not found`;
      expectError(await call('GET', `/api/v1/users/${id}`, acmeAdmin.token), 404, missing);
      expectError(await call('DELETE', `/api/v1/users/${id}`, acmeAdmin.token), 404, missing);
      expectError(await call('GET', `/api/v1/users/${id}/role-bindings`, acmeAdmin.token), 404, missing);
      expectError(await call('PUT', `/api/v1/users/${id}/role-bindings`, acmeAdmin.token, { bindings: [] }), 404, missing);
    }
    const unknown = randomUUID();
    expectError(await call('GET', `/api/v1/users/${unknown}`, acmeAdmin.token), 404, `user ${unknown} not found`);
    for (const key of [globexKey.json(), adminKey.json()]) {
      const missing = `API key ${key.id} not found`;
      expectError(await call('GET', `/api/v1/api-keys/${key.id}/role-bindings`, acmeAdmin.token), 404, missing);
      expectError(await call('PUT', `/api/v1/api-keys/${key.id}/role-bindings`, acmeAdmin.token, { bindings: [] }), 404, missing);
    }

    expect((await call('GET', `/api/v1/users/${globexUser.id}`, admin)).json()).toMatchObject({
      tenant_id: 'globex',
      role_bindings: [{ role: 'developer' }],
      disabled_at: null,
    });
    expect((await call('GET', `/api/v1/api-keys/${globexKey.json().id}/role-bindings`, admin)).json()).toEqual({ bindings: [{ role: 'developer' }] });
  });

  it('never lets a tenant admin grant global-admin or bind a role in another tenant', async () => {
    const member = (await createUser(acmeAdmin.token, { roles: ['viewer'] })).json();
    const bindingsOf = `/api/v1/users/${member.id}/role-bindings`;
    expectError(
      await createUser(acmeAdmin.token, { roles: ['global-admin'] }),
      403,
      'you cannot grant roles you do not hold unconditionally: global-admin',
    );
    expectError(
      await call('PUT', bindingsOf, acmeAdmin.token, { bindings: [{ role: 'global-admin' }] }),
      403,
      'you cannot grant roles you do not hold unconditionally: global-admin',
    );
    expectError(
      await call('PUT', bindingsOf, acmeAdmin.token, { bindings: [{ role: 'viewer' }, { role: 'developer', tenant_id: 'globex' }] }),
      403,
      'you cannot bind a role in tenant globex (bindings.1.tenant_id): role tenant-admin may manage roles only inside its own tenant',
    );
    expect((await call('GET', bindingsOf, acmeAdmin.token)).json()).toEqual({ bindings: [{ role: 'viewer' }] });
  });

  it('leaves a global admin managing every tenant and platform-wide users', async () => {
    const everyone = (await call('GET', '/api/v1/users?limit=1000', admin)).json().data.map((user: { id: string }) => user.id);
    expect(everyone).toEqual(expect.arrayContaining([acmeAdmin.id, globexUser.id, platformUser.id]));
    const globex = (await call('GET', '/api/v1/users?tenant_id=globex&limit=1000', admin)).json().data;
    expect(globex.map((user: { id: string }) => user.id)).toEqual([globexUser.id]);

    expect((await createUser(admin, { tenant_id: 'initech' })).json().tenant_id).toBe('initech');
    expect((await createUser(admin, {})).json().tenant_id).toBeNull();
    const acmeMember = (await createUser(admin, { tenant_id: 'acme' })).json();
    const rebound = await call('PUT', `/api/v1/users/${acmeMember.id}/role-bindings`, admin, { bindings: [{ role: 'tenant-admin' }, { role: 'viewer' }] });
    expect(rebound.statusCode).toBe(200);
    expect((await call('GET', `/api/v1/users/${platformUser.id}/role-bindings`, admin)).statusCode).toBe(200);

    // A tenant's user acts in its tenant only: no platform-wide role, no binding elsewhere.
    expectError(
      await createUser(admin, { tenant_id: 'globex', roles: ['global-admin'] }),
      400,
      'roles: global-admin acts in every tenant, so a user of tenant globex (or its API key) cannot hold it',
    );
    expectError(
      await call('PUT', `/api/v1/users/${globexUser.id}/role-bindings`, admin, { bindings: [{ role: 'developer', tenant_id: 'acme' }] }),
      400,
      'bindings.0.tenant_id: must be globex, the tenant of the user, or be omitted',
    );
  });

  it('applies a change to a tenant admin at its next request', async () => {
    const second = (await createUser(admin, { roles: ['tenant-admin'], tenant_id: 'acme' })).json();
    const token = await login(second.email);
    expect((await call('GET', '/api/v1/users', token)).statusCode).toBe(200);
    expect((await call('PUT', `/api/v1/users/${second.id}/role-bindings`, acmeAdmin.token, { bindings: [{ role: 'viewer' }] })).statusCode).toBe(
      200,
    );
    expectError(await call('GET', '/api/v1/users', token), 401, /changed after this access token was issued/);
    expectError(await call('GET', '/api/v1/users', await login(second.email)), 403, 'role viewer may not manage users');
  });

  it('names a malformed tenant_id (400), for a tenant admin too', async () => {
    const malformed = 'tenant_id: must be 1 to 256 letters, digits, _, . or -';
    for (const token of [admin, acmeAdmin.token]) {
      expectError(await createUser(token, { tenant_id: 'acme corp' }), 400, malformed);
      expectError(await createUser(token, { tenant_id: '' }), 400, malformed);
      expectError(await createUser(token, { tenant_id: 42 }), 400, /^tenant_id: /);
      expectError(await call('GET', '/api/v1/users?tenant_id=acme%2Fcorp', token), 400, malformed);
      expectError(
        await call('PUT', `/api/v1/users/${globexUser.id}/role-bindings`, token, { bindings: [{ role: 'viewer', tenant_id: 'a/b' }] }),
        400,
        `bindings.0.${malformed}`,
      );
    }
  });

  it('audits every change and refusal with the tenant', async () => {
    const created = (await events(SecurityEventType.UserCreated)).find((event) => event.actor?.id === acmeAdmin.id);
    expect(created?.payload).toMatchObject({ tenant_id: 'acme', roles: 'developer' });
    const platformWide = (await events(SecurityEventType.UserCreated, `users/${platformUser.id}`))[0];
    expect(platformWide?.payload).toMatchObject({ tenant_id: null });
    const disabled = (await events(SecurityEventType.UserDisabled)).find((event) => event.actor?.id === acmeAdmin.id);
    expect(disabled?.payload).toMatchObject({ tenant_id: 'acme', sessions_revoked: 0 });
    const rebound = (await events(SecurityEventType.RoleBindingChanged)).filter((event) => event.actor?.id === acmeAdmin.id);
    expect(rebound.map((event) => event.payload?.tenant_id)).toEqual(expect.arrayContaining(['acme']));
    expect(rebound.every((event) => event.payload?.tenant_id === 'acme')).toBe(true);

    const denials = (await events(SecurityEventType.AccessDenied)).filter((event) => event.actor?.id === acmeAdmin.id);
    expect(denials.map((event) => [event.subject, event.payload?.permission, event.payload?.tenant_id])).toEqual(
      expect.arrayContaining([
        ['users', 'users:manage', 'globex'],
        [`users/${globexUser.id}`, 'users:manage', 'globex'],
        [`users/${platformUser.id}`, 'users:manage', null],
        [`users/${globexUser.id}`, 'roles:manage', 'globex'],
      ]),
    );
  });
});
