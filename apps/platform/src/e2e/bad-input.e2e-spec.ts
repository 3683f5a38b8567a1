import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, deleteJetStreamStreams, TEST_NATS_URL, uniqueName, waitFor, type TestDatabase } from '@llmops/platform-testing';
import { Validator } from '@seriousme/openapi-schema-validator';
import { importPKCS8, SignJWT } from 'jose';
import { call, login, startPlatform, type ApiResponse, type RunningPlatform } from './platform-harness.js';

function expectEnvelope(response: ApiResponse, status: number, code: string, message?: RegExp): void {
  expect({ status: response.status, code: response.body?.error?.code }).toEqual({ status, code });
  expect(typeof response.body.error.message).toBe('string');
  expect(response.body.error.request_id).toBe(response.headers.get('x-request-id'));
  if (message) expect(response.body.error.message).toMatch(message);
}

describe('bad input gets the right 4xx and the error envelope', () => {
  let database: TestDatabase;
  let platform: RunningPlatform;
  let token: string;
  const stream = uniqueName('BAD').toUpperCase();
  const configPath = '/api/v1/configs/acme/app/limit?env=development';

  beforeAll(async () => {
    database = await createTestDatabase({ prefix: 'e2e_bad' });
    platform = await startPlatform({
      DATABASE_URL: database.url,
      NATS_URL: TEST_NATS_URL,
      NATS_STREAM: stream,
      NATS_SUBJECT_ROOT: stream.toLowerCase(),
      GATEWAY_BODY_LIMIT_BYTES: '4096',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000',
    });
    token = await login(platform.baseUrl);
  });

  afterAll(async () => {
    await platform?.stop();
    await database?.drop();
    await deleteJetStreamStreams([stream]);
  });

  const signWith = async (privateKeyPem: string, claims: Record<string, unknown>, expiresAt: number): Promise<string> =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('someone')
      .setIssuer('llmops-api-gateway')
      .setAudience('llmops')
      .setJti(randomUUID())
      .setIssuedAt(expiresAt - 900)
      .setExpirationTime(expiresAt)
      .sign(await importPKCS8(privateKeyPem, 'RS256'));

  const rawPut = (path: string, body: string): Promise<{ status: number; body: any }> => // eslint-disable-line @typescript-eslint/no-explicit-any
    new Promise((resolve, reject) => {
      const url = new URL(platform.baseUrl);
      const req = httpRequest(
        { host: url.hostname, port: url.port, method: 'PUT', path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it('malformed JSON → 400', async () => {
    const response = await call(platform.baseUrl, 'PUT', configPath, { token, rawBody: '{"value": ' });
    expectEnvelope(response, 400, 'VALIDATION_ERROR', /JSON/);
  });

  it('oversized body → 413', async () => {
    const response = await call(platform.baseUrl, 'PUT', configPath, { token, body: { value: 'x'.repeat(10_000) } });
    expectEnvelope(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('unknown fields → 400 naming them', async () => {
    const response = await call(platform.baseUrl, 'PUT', configPath, { token, body: { value: 1, colour: 'red' } });
    expectEnvelope(response, 400, 'VALIDATION_ERROR', /unknown field\(s\): colour/);
  });

  it('missing value → 400', async () => {
    const response = await call(platform.baseUrl, 'PUT', configPath, { token, body: {} });
    expectEnvelope(response, 400, 'VALIDATION_ERROR', /value/);
  });

  it('bad namespace characters → 400 naming the segment', async () => {
    const response = await call(platform.baseUrl, 'PUT', '/api/v1/configs/Acme%20Corp/app/limit?env=development', {
      token,
      body: { value: 1 },
    });
    expectEnvelope(response, 400, 'VALIDATION_ERROR', /namespace segment 1/);
  });

  it('path traversal with .. → 400 naming the segment, and nothing is written', async () => {
    // fetch() normalizes dot segments away; a raw request sends them as an attacker would.
    for (const path of ['/api/v1/configs/acme/../limit?env=development', '/api/v1/configs/acme/%2e%2e/limit?env=development']) {
      const response = await rawPut(path, JSON.stringify({ value: 1 }));
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_ERROR');
      expect(response.body.error.message).toMatch(/namespace segment 2 "\.\."/);
    }
    const normalized = await call(platform.baseUrl, 'PUT', '/api/v1/configs/acme/../limit?env=development', { token, body: { value: 1 } });
    expectEnvelope(normalized, 400, 'VALIDATION_ERROR', /path must be <namespace>\/<key>/);
    const listed = await call(platform.baseUrl, 'GET', '/api/v1/configs/acme/limit?env=development', { token });
    expect(listed.status).toBe(404);
  });

  it('missing env → 400', async () => {
    const response = await call(platform.baseUrl, 'GET', '/api/v1/configs/acme/app/limit', { token });
    expectEnvelope(response, 400, 'VALIDATION_ERROR', /env is required/);
  });

  it('missing token → 401', async () => {
    const response = await call(platform.baseUrl, 'GET', configPath);
    expectEnvelope(response, 401, 'AUTH_FAILED', /missing credentials/);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('expired token → 401', async () => {
    const key = await readFile(join(platform.dataDir, 'api-gateway', 'jwt-signing-key.pem'), 'utf8');
    const expired = await signWith(key, { roles: ['global-admin'], typ: 'access', session_id: 's' }, Math.floor(Date.now() / 1000) - 60);
    const response = await call(platform.baseUrl, 'GET', configPath, { token: expired });
    expectEnvelope(response, 401, 'AUTH_FAILED', /expired/i);
  });

  it('forged token (signed by another key) → 401', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const forged = await signWith(pem, { roles: ['global-admin'], typ: 'access', session_id: 's' }, Math.floor(Date.now() / 1000) + 600);
    const response = await call(platform.baseUrl, 'GET', configPath, { token: forged });
    expectEnvelope(response, 401, 'AUTH_FAILED');
  });

  it('a tampered token → 401', async () => {
    const tampered = `${token.slice(0, -4)}AAAA`;
    const response = await call(platform.baseUrl, 'GET', configPath, { token: tampered });
    expectEnvelope(response, 401, 'AUTH_FAILED');
  });

  it('wrong role → 403, and a viewer key reads but cannot write', async () => {
    const created = await call(platform.baseUrl, 'POST', '/api/v1/api-keys', { token, body: { name: 'viewer', roles: ['viewer'] } });
    expect(created.status).toBe(201);
    const viewerKey: string = created.body.key;
    await call(platform.baseUrl, 'PUT', configPath, { token, body: { value: 5 } });
    const read = await call(platform.baseUrl, 'GET', configPath, { apiKey: viewerKey });
    expect(read.status).toBe(200);
    const write = await call(platform.baseUrl, 'PUT', configPath, { apiKey: viewerKey, body: { value: 6 } });
    expectEnvelope(write, 403, 'FORBIDDEN', /viewer/);
    const asBearer = await call(platform.baseUrl, 'PUT', configPath, { token: viewerKey, body: { value: 6 } });
    expectEnvelope(asBearer, 403, 'FORBIDDEN');
  });

  it('a developer key may write development but not production', async () => {
    const created = await call(platform.baseUrl, 'POST', '/api/v1/api-keys', { token, body: { name: 'dev', roles: ['developer'] } });
    const devKey: string = created.body.key;
    const dev = await call(platform.baseUrl, 'PUT', configPath, { apiKey: devKey, body: { value: 7 } });
    expect(dev.status).toBe(200);
    const prod = await call(platform.baseUrl, 'PUT', '/api/v1/configs/acme/app/limit?env=production', {
      apiKey: devKey,
      body: { value: 7 },
    });
    expectEnvelope(prod, 403, 'FORBIDDEN', /production/);
  });

  it('a revoked API key → 401', async () => {
    const created = await call(platform.baseUrl, 'POST', '/api/v1/api-keys', { token, body: { name: 'temp' } });
    const revoke = await call(platform.baseUrl, 'DELETE', `/api/v1/api-keys/${created.body.id}`, { token });
    expect(revoke.status).toBe(200);
    const response = await call(platform.baseUrl, 'GET', configPath, { apiKey: created.body.key });
    expectEnvelope(response, 401, 'AUTH_FAILED', /revoked/);
  });

  it('cannot mint an API key with a role it does not hold', async () => {
    const created = await call(platform.baseUrl, 'POST', '/api/v1/api-keys', { token, body: { name: 'dev', roles: ['developer'] } });
    const login2 = await call(platform.baseUrl, 'POST', '/api/v1/api-keys', {
      apiKey: created.body.key,
      body: { name: 'escalate', roles: ['global-admin'] },
    });
    expectEnvelope(login2, 403, 'FORBIDDEN', /API key cannot mint another/);
  });

  it('wrong password → 401 without saying which part was wrong', async () => {
    const response = await call(platform.baseUrl, 'POST', '/api/v1/auth/login', {
      body: { email: 'admin@e2e.test', password: 'wrong-password' },
    });
    expectEnvelope(response, 401, 'AUTH_FAILED', /invalid email or password/);
    const unknown = await call(platform.baseUrl, 'POST', '/api/v1/auth/login', {
      body: { email: 'nobody@e2e.test', password: 'wrong-password' },
    });
    expect(unknown.body.error.message).toBe(response.body.error.message);
  });

  it('a refresh token rotates once; reusing it revokes the session', async () => {
    const pair = await call(platform.baseUrl, 'POST', '/api/v1/auth/login', {
      body: { email: 'admin@e2e.test', password: 'correct-horse-battery-staple' },
    });
    const first = await call(platform.baseUrl, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: pair.body.refresh_token } });
    expect(first.status).toBe(200);
    const reuse = await call(platform.baseUrl, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: pair.body.refresh_token } });
    expectEnvelope(reuse, 401, 'AUTH_FAILED', /already used/);
    const afterRevocation = await call(platform.baseUrl, 'POST', '/api/v1/auth/refresh', {
      body: { refresh_token: first.body.refresh_token },
    });
    expectEnvelope(afterRevocation, 401, 'AUTH_FAILED', /revoked/);
    const accessAsRefresh = await call(platform.baseUrl, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: token } });
    expectEnvelope(accessAsRefresh, 401, 'AUTH_FAILED');
  });

  it('a check-and-set conflict → 409', async () => {
    await call(platform.baseUrl, 'PUT', '/api/v1/configs/acme/cas/k?env=development', { token, body: { value: 1 } });
    const stale = await call(platform.baseUrl, 'PUT', '/api/v1/configs/acme/cas/k?env=development', {
      token,
      body: { value: 2 },
      headers: { 'if-match': '"7"' },
    });
    expectEnvelope(stale, 409, 'CONFLICT', /version 1, not 7/);
  });

  it('unknown routes → 404 and wrong content type → 415, both enveloped', async () => {
    expectEnvelope(await call(platform.baseUrl, 'GET', '/api/v1/nope', { token }), 404, 'NOT_FOUND');
    const xml = await call(platform.baseUrl, 'PUT', configPath, {
      token,
      rawBody: '<value>1</value>',
      headers: { 'content-type': 'application/xml' },
    });
    expectEnvelope(xml, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('records failed logins, denied requests and API-key changes in the audit log', async () => {
    const entriesOf = async (eventType: string) =>
      (await call(platform.baseUrl, 'GET', `/api/v1/audit_logs?event_type=${eventType}`, { token })).body.data as Array<
        Record<string, unknown> & { details: Record<string, unknown> }
      >;
    const failed = await waitFor(async () => {
      const entries = await entriesOf('auth.login_failed');
      return entries.length > 0 ? entries : undefined;
    }, { timeoutMs: 15_000, message: 'no auth.login_failed entry' });
    expect(failed[0]).toMatchObject({ actor_type: 'anonymous', source: 'api-gateway', resource_type: 'users' });
    expect(JSON.stringify(failed)).not.toContain('wrong-password');
    const denied = await waitFor(async () => {
      const entries = await entriesOf('authz.denied');
      return entries.length > 0 ? entries : undefined;
    }, { timeoutMs: 15_000, message: 'no authz.denied entry' });
    expect(denied.some((entry) => entry.details.permission === 'configs:write' && entry.actor_type === 'api_key')).toBe(true);
    const created = await waitFor(async () => {
      const entries = await entriesOf('api_key.created');
      return entries.length > 0 ? entries : undefined;
    }, { timeoutMs: 15_000, message: 'no api_key.created entry' });
    expect(created[0]).toMatchObject({ resource_type: 'api-keys', actor_type: 'user' });
    expect((await entriesOf('auth.login_succeeded')).length).toBeGreaterThan(0);
  });

  it('serves a valid OpenAPI 3 document', async () => {
    const response = await call(platform.baseUrl, 'GET', '/api/docs-json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toMatch(/^3\./);
    const validation = await new Validator().validate(response.body);
    expect(validation.errors ?? []).toEqual([]);
    expect(validation.valid).toBe(true);
    expect(Object.keys(response.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/auth/login', '/api/v1/auth/refresh', '/api/v1/api-keys', '/api/v1/audit_logs']),
    );
  });
});

describe('rate limiting per principal', () => {
  let database: TestDatabase;
  let platform: RunningPlatform;

  beforeAll(async () => {
    database = await createTestDatabase({ prefix: 'e2e_rate' });
    platform = await startPlatform({ DATABASE_URL: database.url, RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_ANONYMOUS_PER_MINUTE: '3' });
  });

  afterAll(async () => {
    await platform?.stop();
    await database?.drop();
  });

  it('never throttles health probes or metric scrapes', async () => {
    const statuses = new Set<number>();
    for (let i = 0; i < 70; i++) statuses.add((await call(platform.baseUrl, 'GET', '/health/live')).status);
    expect([...statuses]).toEqual([200]);
  });

  it('answers 429 with Retry-After once the window is used up', async () => {
    const token = await login(platform.baseUrl);
    const statuses: number[] = [];
    let limited: ApiResponse | undefined;
    for (let i = 0; i < 7; i++) {
      const response = await call(platform.baseUrl, 'GET', '/api/v1/audit_logs', { token });
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(limited).toBeDefined();
    expectEnvelope(limited!, 429, 'RATE_LIMIT');
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('throttles login attempts per client address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await call(platform.baseUrl, 'POST', '/api/v1/auth/login', { body: { email: 'x@e2e.test', password: 'guess' } })).status);
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((status) => status !== 429).every((status) => status === 401)).toBe(true);
  });
});
