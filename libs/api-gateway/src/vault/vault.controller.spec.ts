import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  DescribeSecretResponseSchema,
  GetSecretResponseSchema,
  ListSecretsResponseSchema,
  SecretMetadataSchema,
  SecretType,
  SetSecretResponseSchema,
} from '@llmops/contracts';
import type { Principal } from '@llmops/platform-auth';
import { GrpcCallError } from '@llmops/platform-grpc';
import { createLogger } from '@llmops/platform-observability';
import { ErrorEnvelopeFilter } from '../errors/error-envelope.filter.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { listenOnLoopback, recordingGuard, sendJson, type DemandedAccess, type HttpAnswer } from '../testing/route-testing.js';
import { SECRET_CLIENT, type SecretClient } from '../upstreams/upstream-clients.js';
import { VAULT_ERROR_LOGGER, vaultErrorOf } from './vault-error.filter.js';
import { VaultController } from './vault.controller.js';

const created = timestampFromDate(new Date('2025-01-02T03:04:05.006Z'));
const updated = timestampFromDate(new Date('2025-02-03T04:05:06.007Z'));
const metadata = (version: number) =>
  create(SecretMetadataSchema, {
    path: 'acme/db',
    environment: 'production',
    type: SecretType.GENERIC,
    version: BigInt(version),
    currentVersion: BigInt(version),
    labels: { team: 'payments', tier: 1 },
    createdAt: created,
    updatedAt: updated,
    maxVersions: 0,
  });

const upstream = {
  calls: [] as Array<{ method: string; request: unknown }>,
  failWith: undefined as Error | undefined,
  storedValue: '{"username":"app","password":"hunter2"}',
};

async function answer<T>(method: string, request: unknown, response: T): Promise<T> {
  upstream.calls.push({ method, request });
  if (upstream.failWith) throw upstream.failWith;
  return response;
}

const fakeSecrets = {
  getSecret: (request: unknown) =>
    answer('getSecret', request, create(GetSecretResponseSchema, {
      metadata: metadata(2),
      value: upstream.storedValue,
      revealed: true,
      version: { version: 2n, createdAt: updated },
    })),
  setSecret: (request: unknown) => answer('setSecret', request, create(SetSecretResponseSchema, { metadata: metadata(3) })),
  describeSecret: (request: unknown) =>
    answer('describeSecret', request, create(DescribeSecretResponseSchema, {
      metadata: metadata(2),
      versions: [
        { version: 1n, createdAt: created, deletedAt: updated },
        { version: 2n, createdAt: updated, destroyed: true },
      ],
    })),
  listSecrets: (request: unknown) =>
    answer('listSecrets', request, create(ListSecretsResponseSchema, { secrets: [metadata(2), { ...metadata(1), path: 'acme/api' }], folders: ['cache/'] })),
  deleteSecretVersions: (request: unknown) => answer('deleteSecretVersions', request, { versions: [2n] }),
  undeleteSecretVersions: (request: unknown) => answer('undeleteSecretVersions', request, { versions: [2n] }),
  destroySecretVersions: (request: unknown) => answer('destroySecretVersions', request, { versions: [2n] }),
  deleteSecret: (request: unknown) => answer('deleteSecret', request, {}),
};

const principal: Principal = { id: 'k-1', type: 'api_key', roles: ['developer'] };
const demanded: DemandedAccess[] = [];
const silent = createLogger({ service: 'test', version: 'test', level: 'silent' });

@Module({
  controllers: [VaultController],
  providers: [
    { provide: SECRET_CLIENT, useValue: fakeSecrets as unknown as SecretClient },
    { provide: APP_GUARD, useValue: recordingGuard(principal, demanded) },
    { provide: APP_FILTER, useValue: new ErrorEnvelopeFilter(silent) },
    { provide: VAULT_ERROR_LOGGER, useValue: silent },
  ],
})
class VaultRoutesModule {}

const envelopeOf = (data: unknown) => ({
  request_id: expect.any(String),
  lease_id: '',
  renewable: false,
  lease_duration: 0,
  data,
  wrap_info: null,
  warnings: null,
  auth: null,
});

describe(VaultController.name, () => {
  let app: NestFastifyApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await listenOnLoopback(VaultRoutesModule));
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    upstream.calls = [];
    upstream.failWith = undefined;
    upstream.storedValue = '{"username":"app","password":"hunter2"}';
    demanded.length = 0;
  });

  const send = (method: string, url: string, body?: unknown): Promise<HttpAnswer> => sendJson(baseUrl, method, url, body);
  const lastCall = () => upstream.calls.at(-1);

  it('reads a version revealed, the first segment being the environment, in Vault\'s envelope', async () => {
    const response = await send('GET', '/v1/secret/data/production/acme/db?version=2');
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toEqual(
      envelopeOf({
        data: { username: 'app', password: 'hunter2' },
        metadata: {
          created_time: '2025-02-03T04:05:06.007Z',
          custom_metadata: { team: 'payments', tier: '1' },
          deletion_time: '',
          destroyed: false,
          version: 2,
        },
      }),
    );
    expect(lastCall()?.request).toEqual({ path: 'acme/db', environment: 'production', version: 2n, reveal: true });
    expect(demanded).toEqual([{ permission: 'secrets:read', environment: 'production' }]);
  });

  it('returns a value that is not a JSON object under "value"', async () => {
    upstream.storedValue = 'sk-live-123';
    expect((await send('GET', '/v1/secret/data/production/acme/db')).json().data.data).toEqual({ value: 'sk-live-123' });
    upstream.storedValue = '[1,2]';
    expect((await send('GET', '/v1/secret/data/production/acme/db')).json().data.data).toEqual({ value: '[1,2]' });
  });

  it('writes the data map as a generic secret, with cas as the expected version, by POST or PUT', async () => {
    const response = await send('POST', '/v1/secret/data/staging/acme/db', { data: { password: 'p' }, options: { cas: 2 } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(
      envelopeOf({ created_time: '2025-02-03T04:05:06.007Z', custom_metadata: { team: 'payments', tier: '1' }, deletion_time: '', destroyed: false, version: 3 }),
    );
    expect(lastCall()?.request).toEqual({
      path: 'acme/db',
      environment: 'staging',
      type: SecretType.GENERIC,
      value: '{"password":"p"}',
      expectedVersion: 2n,
    });
    expect(demanded).toEqual([{ permission: 'secrets:write', environment: 'staging' }]);
    expect((await send('PUT', '/v1/secret/data/staging/acme/db', { data: { password: 'q' } })).statusCode).toBe(200);
    expect(lastCall()?.request).toMatchObject({ value: '{"password":"q"}', expectedVersion: undefined });
  });

  it('deletes, undeletes and destroys versions with 204', async () => {
    expect((await send('DELETE', '/v1/secret/data/production/acme/db')).statusCode).toBe(204);
    expect(lastCall()).toEqual({ method: 'deleteSecretVersions', request: { environment: 'production', path: 'acme/db', versions: [] } });
    for (const action of ['delete', 'undelete', 'destroy']) {
      const response = await send('POST', `/v1/secret/${action}/production/acme/db`, { versions: [1, 2] });
      expect(response.statusCode).toBe(204);
      expect(lastCall()).toEqual({ method: `${action}SecretVersions`, request: { environment: 'production', path: 'acme/db', versions: [1n, 2n] } });
    }
    expect((await send('DELETE', '/v1/secret/metadata/production/acme/db')).statusCode).toBe(204);
    expect(lastCall()).toEqual({ method: 'deleteSecret', request: { environment: 'production', path: 'acme/db' } });
    expect(demanded.every((access) => access.permission === 'secrets:write' && access.environment === 'production')).toBe(true);
  });

  it('reads metadata with every version, and lists keys with ?list=true', async () => {
    const response = await send('GET', '/v1/secret/metadata/production/acme/db');
    expect(response.json().data).toEqual({
      cas_required: false,
      created_time: '2025-01-02T03:04:05.006Z',
      current_version: 2,
      custom_metadata: { team: 'payments', tier: '1' },
      delete_version_after: '0s',
      max_versions: 0,
      oldest_version: 1,
      updated_time: '2025-02-03T04:05:06.007Z',
      versions: {
        '1': { created_time: '2025-01-02T03:04:05.006Z', deletion_time: '2025-02-03T04:05:06.007Z', destroyed: false },
        '2': { created_time: '2025-02-03T04:05:06.007Z', deletion_time: '', destroyed: true },
      },
    });
    const listing = await send('GET', '/v1/secret/metadata/production/acme/?list=true');
    expect(listing.json()).toEqual(envelopeOf({ keys: ['api', 'cache/', 'db'] }));
    expect(lastCall()).toEqual({ method: 'listSecrets', request: { environment: 'production', folder: 'acme' } });
    await send('GET', '/v1/secret/metadata/production?list=1');
    expect(lastCall()?.request).toEqual({ environment: 'production', folder: '' });
    expect(demanded.every((access) => access.permission === 'secrets:read')).toBe(true);
  });

  it('answers errors in Vault\'s shape with Vault\'s status codes', async () => {
    upstream.failWith = new GrpcCallError(status.NOT_FOUND, 'secret acme/db not found in production');
    const missing = await send('GET', '/v1/secret/data/production/acme/db');
    expect([missing.statusCode, missing.json()]).toEqual([404, { errors: [] }]);

    upstream.failWith = new GrpcCallError(status.ABORTED, 'acme/db in production is at version 4, not 3', { 'error-code': 'VERSION_CONFLICT' });
    const conflict = await send('POST', '/v1/secret/data/production/acme/db', { data: { a: 'b' }, options: { cas: 3 } });
    expect([conflict.statusCode, conflict.json()]).toEqual([400, { errors: ['check-and-set parameter did not match the current version'] }]);

    upstream.failWith = new GrpcCallError(status.PERMISSION_DENIED, 'developer may not reveal secrets in production');
    const denied = await send('GET', '/v1/secret/data/production/acme/db');
    expect([denied.statusCode, denied.json()]).toEqual([403, { errors: ['permission denied', 'developer may not reveal secrets in production'] }]);

    upstream.failWith = undefined;
    const noData = await send('POST', '/v1/secret/data/production/acme/db', { options: {} });
    expect([noData.statusCode, noData.json()]).toEqual([400, { errors: ['data: no data provided'] }]);
    const noPath = await send('GET', '/v1/secret/data/production');
    expect(noPath.statusCode).toBe(400);
    expect(noPath.json().errors[0]).toMatch(/^path must be <environment>\/<secret path>/);
    const badVersion = await send('GET', '/v1/secret/data/production/acme/db?version=latest');
    expect([badVersion.statusCode, badVersion.json()]).toEqual([400, { errors: ['version must be an integer from 0 to 2147483647'] }]);
    expect(upstream.calls).toHaveLength(3);
  });

  it('reports a healthy, unsealed server without credentials', async () => {
    const response = await send('GET', '/v1/sys/health');
    expect(response.json()).toMatchObject({ initialized: true, sealed: false, standby: false });
    expect(demanded).toEqual([]);
  });
});

describe(vaultErrorOf.name, () => {
  it('says check-and-set is required when the secret demands it', () => {
    const required = new GrpcCallError(status.INVALID_ARGUMENT, 'acme/db requires check-and-set', { 'error-field': 'expected_version' });
    expect(vaultErrorOf(required)).toEqual({ statusCode: 400, body: { errors: ['check-and-set parameter required for this call'] }, headers: {} });
  });

  it('answers a missing token with 403 permission denied, as Vault has no 401', () => {
    const missing = new GatewayException(GatewayErrorCode.AuthFailed, 'missing credentials', { 'www-authenticate': 'Bearer' });
    expect(vaultErrorOf(missing)).toEqual({ statusCode: 403, body: { errors: ['permission denied', 'missing credentials'] }, headers: {} });
  });

  it('keeps the retry hint of a rate limit and hides internal errors', () => {
    expect(vaultErrorOf(new GatewayException(GatewayErrorCode.RateLimit, 'slow down', { 'retry-after': '5' }))).toEqual({
      statusCode: 429,
      body: { errors: ['slow down'] },
      headers: { 'retry-after': '5' },
    });
    expect(vaultErrorOf(new Error('connection string postgres://u:p@db'))).toEqual({ statusCode: 500, body: { errors: ['internal error'] }, headers: {} });
  });
});
