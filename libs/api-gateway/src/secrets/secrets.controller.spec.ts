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
  RotateSecretResponseSchema,
  SecretMetadataSchema,
  SecretType,
  SecretVersionSchema,
  SetSecretResponseSchema,
} from '@llmops/contracts';
import type { Principal } from '@llmops/platform-auth';
import { GrpcCallError } from '@llmops/platform-grpc';
import { createLogger } from '@llmops/platform-observability';
import { ErrorEnvelopeFilter } from '../errors/error-envelope.filter.js';
import { listenOnLoopback, recordingGuard, sendJson, type DemandedAccess, type HttpAnswer } from '../testing/route-testing.js';
import { SECRET_CLIENT, type SecretClient } from '../upstreams/upstream-clients.js';
import { JwksController } from './jwks.controller.js';
import { SecretKeysController } from './secret-keys.controller.js';
import { SecretsController } from './secrets.controller.js';

const at = timestampFromDate(new Date('2025-01-02T03:04:05.006Z'));
const metadata = (version: number) =>
  create(SecretMetadataSchema, {
    path: 'acme/db',
    environment: 'production',
    type: SecretType.GENERIC,
    version: BigInt(version),
    currentVersion: BigInt(version),
    labels: { team: 'payments' },
    createdAt: at,
    updatedAt: at,
    createdBy: 'u-1',
    maxVersions: 10,
    rotationPeriodSeconds: 86_400n,
    gracePeriodSeconds: 3_600n,
  });
const versionState = (version: number) => create(SecretVersionSchema, { version: BigInt(version), createdAt: at, createdBy: 'u-1', kekVersion: 1 });

/** What the fake upstream was asked, and whether it fails next. */
const upstream = {
  calls: [] as Array<{ method: string; request: unknown; metadata: Record<string, string> | undefined }>,
  failWith: undefined as Error | undefined,
  writtenVersion: 1,
};

async function answer<T>(method: string, request: unknown, options: { metadata?: Record<string, string> } | undefined, response: T): Promise<T> {
  upstream.calls.push({ method, request, metadata: options?.metadata });
  if (upstream.failWith) throw upstream.failWith;
  return response;
}

type Options = { metadata?: Record<string, string> } | undefined;
const keyStatus = { provider: 'local', currentVersion: 2, minDecryptionVersion: 1, versions: [1, 2], dataKeysOnOlderVersions: 3n, dataKeysByVersion: { 1: 3n, 2: 5n } };

const fakeSecrets = {
  getSecret: (request: { reveal: boolean }, options: Options) =>
    answer('getSecret', request, options, create(GetSecretResponseSchema, {
      metadata: metadata(2),
      value: request.reveal ? 's3cret-value' : '********',
      revealed: request.reveal,
      version: versionState(2),
    })),
  setSecret: (request: unknown, options: Options) =>
    answer('setSecret', request, options, create(SetSecretResponseSchema, { metadata: metadata(upstream.writtenVersion) })),
  rotateSecret: (request: unknown, options: Options) =>
    answer('rotateSecret', request, options, create(RotateSecretResponseSchema, { metadata: metadata(3), previousVersion: 2n, previousValidUntil: at })),
  describeSecret: (request: unknown, options: Options) =>
    answer('describeSecret', request, options, create(DescribeSecretResponseSchema, {
      metadata: metadata(2),
      versions: [{ ...versionState(1), deletedAt: at }, versionState(2)],
    })),
  listSecrets: (request: unknown, options: Options) =>
    answer('listSecrets', request, options, create(ListSecretsResponseSchema, { secrets: [metadata(2)], folders: ['cache/'] })),
  deleteSecretVersions: (request: unknown, options: Options) => answer('deleteSecretVersions', request, options, { versions: [2n] }),
  undeleteSecretVersions: (request: unknown, options: Options) => answer('undeleteSecretVersions', request, options, { versions: [1n] }),
  destroySecretVersions: (request: unknown, options: Options) => answer('destroySecretVersions', request, options, { versions: [1n, 2n] }),
  deleteSecret: (request: unknown, options: Options) => answer('deleteSecret', request, options, {}),
  getJwks: (request: unknown, options: Options) => answer('getJwks', request, options, { jwks: '{"keys":[{"kty":"OKP","crv":"Ed25519","x":"abc"}]}' }),
  getEncryptionKeyStatus: (request: unknown, options: Options) => answer('getEncryptionKeyStatus', request, options, { status: keyStatus }),
  rotateEncryptionKey: (request: unknown, options: Options) => answer('rotateEncryptionKey', request, options, { status: keyStatus }),
  setMinDecryptionVersion: (request: unknown, options: Options) => answer('setMinDecryptionVersion', request, options, { status: keyStatus }),
};

const principal: Principal = { id: 'u-admin', type: 'user', roles: ['global-admin'] };
const demanded: DemandedAccess[] = [];

@Module({
  controllers: [SecretsController, SecretKeysController, JwksController],
  providers: [
    { provide: SECRET_CLIENT, useValue: fakeSecrets as unknown as SecretClient },
    { provide: APP_GUARD, useValue: recordingGuard(principal, demanded) },
    { provide: APP_FILTER, useValue: new ErrorEnvelopeFilter(createLogger({ service: 'test', version: 'test', level: 'silent' })) },
  ],
})
class SecretRoutesModule {}

describe(SecretsController.name, () => {
  let app: NestFastifyApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await listenOnLoopback(SecretRoutesModule));
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    upstream.calls = [];
    upstream.failWith = undefined;
    upstream.writtenVersion = 1;
    demanded.length = 0;
  });

  const send = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> =>
    sendJson(baseUrl, method, url, body, headers);
  const lastCall = () => upstream.calls.at(-1);

  it('reads a secret masked, in snake_case with the version state, and never caches it', async () => {
    const response = await send('GET', '/api/v1/secrets/acme/db?env=production');
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toEqual({
      path: 'acme/db',
      environment: 'production',
      type: 'generic',
      version: 2,
      current_version: 2,
      labels: { team: 'payments' },
      facts: {},
      created_at: '2025-01-02T03:04:05.006Z',
      created_by: 'u-1',
      updated_at: '2025-01-02T03:04:05.006Z',
      next_rotation_at: null,
      max_versions: 10,
      cas_required: false,
      rotation_period_seconds: 86_400,
      grace_period_seconds: 3_600,
      value: '********',
      revealed: false,
      version_details: {
        version: 2,
        created_at: '2025-01-02T03:04:05.006Z',
        created_by: 'u-1',
        deleted_at: null,
        destroyed: false,
        valid_until: null,
        revoked_at: null,
        kek_version: 1,
      },
    });
    expect(lastCall()?.request).toEqual({ path: 'acme/db', environment: 'production', reveal: false, version: 0n });
    expect(lastCall()?.metadata).toMatchObject({ 'x-actor-id': 'u-admin' });
    expect(demanded).toEqual([{ permission: 'secrets:read', environment: 'production' }]);
  });

  it('asks secret-service to reveal a version, which decides secrets:reveal and records a refusal', async () => {
    const response = await send('GET', '/api/v1/secrets/acme/db?env=production&reveal=true&version=2');
    expect(response.json()).toMatchObject({ value: 's3cret-value', revealed: true });
    expect(response.headers['cache-control']).toBe('no-store');
    expect(lastCall()?.request).toEqual({ path: 'acme/db', environment: 'production', reveal: true, version: 2n });
    upstream.failWith = new GrpcCallError(status.PERMISSION_DENIED, 'viewer may not reveal secrets in production');
    const denied = await send('GET', '/api/v1/secrets/acme/db?env=production&reveal=true');
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error).toMatchObject({ code: 'FORBIDDEN', message: 'viewer may not reveal secrets in production' });
  });

  it('describes the versions, and lists a folder named with a trailing slash', async () => {
    const versions = await send('GET', '/api/v1/secrets/acme/db/versions?env=production');
    expect(versions.json().versions.map((version: { version: number; deleted_at: string | null }) => [version.version, version.deleted_at])).toEqual([
      [1, '2025-01-02T03:04:05.006Z'],
      [2, null],
    ]);
    expect(lastCall()).toMatchObject({ method: 'describeSecret', request: { path: 'acme/db', environment: 'production' } });
    const listing = await send('GET', '/api/v1/secrets/acme/?env=production');
    expect(listing.json()).toMatchObject({ folder: 'acme', environment: 'production', folders: ['cache/'], secrets: [{ path: 'acme/db' }] });
    expect(listing.json().secrets[0]).not.toHaveProperty('value');
    expect(lastCall()).toMatchObject({ method: 'listSecrets', request: { folder: 'acme', environment: 'production' } });
    await send('GET', '/api/v1/secrets/?env=production');
    expect(lastCall()).toMatchObject({ method: 'listSecrets', request: { folder: '' } });
  });

  it('needs env, and names a bad query parameter', async () => {
    const noEnv = await send('GET', '/api/v1/secrets/acme/db');
    expect(noEnv.statusCode).toBe(400);
    expect(noEnv.json().error.message).toBe('query parameter env is required, e.g. ?env=development');
    const badVersion = await send('GET', '/api/v1/secrets/acme/db?env=production&version=x');
    expect(badVersion.statusCode).toBe(400);
    expect(badVersion.json().error.message).toBe('version must be an integer from 1 to 2147483647');
    expect(upstream.calls).toEqual([]);
  });

  it('creates a secret with 201 and updates with 200, answering metadata without the value', async () => {
    const created = await send('POST', '/api/v1/secrets/acme/db?env=production', {
      type: 'database_credentials',
      value: { username: 'app', password: 'hunter2' },
      labels: { team: 'payments' },
      max_versions: 10,
      cas_required: true,
      rotation_period_seconds: 86_400,
      grace_period_seconds: 3_600,
      expected_version: 0,
    });
    expect(created.statusCode).toBe(201);
    expect(created.body).not.toContain('hunter2');
    expect(created.json()).toMatchObject({ path: 'acme/db', version: 1 });
    expect(lastCall()?.request).toEqual({
      path: 'acme/db',
      environment: 'production',
      type: SecretType.DATABASE_CREDENTIALS,
      value: '{"username":"app","password":"hunter2"}',
      labels: { team: 'payments' },
      expectedVersion: 0n,
      maxVersions: 10,
      casRequired: true,
      rotationPeriodSeconds: 86_400n,
      gracePeriodSeconds: 3_600n,
    });
    expect(demanded).toEqual([{ permission: 'secrets:write', environment: 'production' }]);
    upstream.writtenVersion = 4;
    const updated = await send('POST', '/api/v1/secrets/acme/db?env=production', { value: 'next' }, { 'if-match': '"3"' });
    expect(updated.statusCode).toBe(200);
    expect(lastCall()?.request).toMatchObject({ type: SecretType.UNSPECIFIED, value: 'next', expectedVersion: 3n });
  });

  it('answers a check-and-set conflict with 409 and a bad body with 400 naming the field', async () => {
    upstream.failWith = new GrpcCallError(status.ABORTED, 'acme/db in production is at version 4, not 3', { 'error-code': 'VERSION_CONFLICT' });
    const conflict = await send('POST', '/api/v1/secrets/acme/db?env=production', { value: 'x', expected_version: 3 });
    expect(conflict.statusCode).toBe(409);
    upstream.failWith = undefined;
    const bad = await send('POST', '/api/v1/secrets/acme/db?env=production', { type: 'generic', value: '' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toBe('value: must not be empty');
    const reserved = await send('POST', '/api/v1/secrets/acme/versions?env=production', { type: 'generic', value: 'x' });
    expect(reserved.statusCode).toBe(400);
    expect(reserved.json().error.message).toContain('reserved');
  });

  it('says a stored secret failed its integrity check with a 500 that hides the detail', async () => {
    upstream.failWith = new GrpcCallError(status.DATA_LOSS, 'gcm tag mismatch at acme/db v2 (kek 1)');
    const response = await send('GET', '/api/v1/secrets/acme/db?env=production&reveal=true');
    expect(response.statusCode).toBe(500);
    expect(response.json().error).toMatchObject({ code: 'INTEGRITY_ERROR', message: 'the stored secret failed its integrity check and cannot be read' });
  });

  it('rotates with secrets:rotate, answering the overlap', async () => {
    const response = await send('POST', '/api/v1/secrets/acme/db/rotate?env=production');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ version: 3, previous_version: 2, previous_valid_until: '2025-01-02T03:04:05.006Z' });
    expect(lastCall()).toMatchObject({ method: 'rotateSecret', request: { path: 'acme/db', environment: 'production' } });
    expect(demanded).toEqual([{ permission: 'secrets:rotate', environment: 'production' }]);
  });

  it('undeletes and destroys named versions with secrets:write', async () => {
    const undeleted = await send('POST', '/api/v1/secrets/acme/db/undelete?env=production', { versions: [1] });
    expect(undeleted.json()).toEqual({ path: 'acme/db', environment: 'production', versions: [1] });
    expect(lastCall()).toMatchObject({ method: 'undeleteSecretVersions', request: { path: 'acme/db', versions: [1n] } });
    const destroyed = await send('POST', '/api/v1/secrets/acme/db/destroy?env=production', { versions: [1, 2] });
    expect(destroyed.json().versions).toEqual([1, 2]);
    expect(demanded.map((access) => access.permission)).toEqual(['secrets:write', 'secrets:write']);
    const none = await send('POST', '/api/v1/secrets/acme/db/destroy?env=production', {});
    expect(none.statusCode).toBe(400);
    expect(none.json().error.message).toBe('versions: is required');
  });

  it('soft-deletes the current or named versions, and purges the whole secret', async () => {
    expect((await send('DELETE', '/api/v1/secrets/acme/db?env=production')).json()).toEqual({ path: 'acme/db', environment: 'production', versions: [2] });
    expect(lastCall()?.request).toEqual({ path: 'acme/db', environment: 'production', versions: [] });
    await send('DELETE', '/api/v1/secrets/acme/db?env=production&versions=1,2');
    expect(lastCall()?.request).toEqual({ path: 'acme/db', environment: 'production', versions: [1n, 2n] });
    const purged = await send('DELETE', '/api/v1/secrets/acme/db?env=production&purge=true');
    expect(purged.json()).toEqual({ path: 'acme/db', environment: 'production', purged: true });
    expect(lastCall()).toMatchObject({ method: 'deleteSecret', request: { path: 'acme/db', environment: 'production' } });
    expect(demanded.every((access) => access.permission === 'secrets:write' && access.environment === 'production')).toBe(true);
  });

  it('serves a JWKS publicly as cacheable JSON, asking for no principal', async () => {
    const response = await send('GET', '/api/v1/jwks/production/acme/auth/signing');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['cache-control']).toBe('public, max-age=60');
    expect(response.json()).toEqual({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc' }] });
    expect(lastCall()?.request).toEqual({ path: 'acme/auth/signing', environment: 'production' });
    expect(Object.keys(lastCall()?.metadata ?? {})).toEqual(['x-request-id']);
    expect(demanded).toEqual([]);
  });

  it('reports and changes the key-encryption keys with secrets:rotate', async () => {
    const expected = {
      provider: 'local',
      current_version: 2,
      min_decryption_version: 1,
      versions: [1, 2],
      data_keys_on_older_versions: 3,
      data_keys_by_version: { '1': 3, '2': 5 },
    };
    expect((await send('GET', '/api/v1/secret-keys')).json()).toEqual(expected);
    expect((await send('POST', '/api/v1/secret-keys/rotate')).statusCode).toBe(200);
    const raised = await send('POST', '/api/v1/secret-keys/min-decryption-version', { min_decryption_version: 2 });
    expect(raised.statusCode).toBe(200);
    expect(lastCall()?.request).toEqual({ minDecryptionVersion: 2 });
    expect(demanded).toEqual([
      { permission: 'secrets:rotate', environment: undefined },
      { permission: 'secrets:rotate', environment: undefined },
      { permission: 'secrets:rotate', environment: undefined },
    ]);
    const bad = await send('POST', '/api/v1/secret-keys/min-decryption-version', { min_decryption_version: 0 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toBe('min_decryption_version: must be a positive integer');
  });
});
