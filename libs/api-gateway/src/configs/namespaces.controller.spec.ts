import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { create, fromJson } from '@bufbuild/protobuf';
import { timestampFromDate, ValueSchema } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import {
  GetNamespaceSettingsResponseSchema,
  NamespaceSettingsSchema,
  SetNamespaceSettingsResponseSchema,
  type GetNamespaceSettingsResponse,
} from '@llmops/contracts';
import type { Principal } from '@llmops/platform-auth';
import { GrpcCallError } from '@llmops/platform-grpc';
import { createLogger } from '@llmops/platform-observability';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ErrorEnvelopeFilter } from '../errors/error-envelope.filter.js';
import { listenOnLoopback, recordingGuard, type DemandedAccess, sendJson, type HttpAnswer } from '../testing/route-testing.js';
import { CONFIG_CLIENT, type ConfigClient } from '../upstreams/upstream-clients.js';
import { NamespacesController } from './namespaces.controller.js';

const updatedAt = timestampFromDate(new Date('2025-01-02T03:04:05.006Z'));

const inherited = create(GetNamespaceSettingsResponseSchema, {
  definedAt: 'acme',
  settings: {
    namespace: 'acme',
    schema: fromJson(ValueSchema, { type: 'object' }),
    keySchemas: { 'model*': fromJson(ValueSchema, { type: 'string' }) },
    environments: ['base', 'dev', 'prod'],
    version: 2n,
    updatedBy: 'u-1',
    updatedAt,
  },
});
const defaults = create(GetNamespaceSettingsResponseSchema, { definedAt: '', settings: { namespace: 'acme/chatbot' } });

/** What the fake upstream was asked, what it answers to a read, and whether it fails next. */
const upstream = {
  calls: [] as Array<{ method: string; request: unknown }>,
  settings: inherited as GetNamespaceSettingsResponse,
  failWith: undefined as Error | undefined,
};

async function answer<T>(method: string, request: unknown, response: T): Promise<T> {
  upstream.calls.push({ method, request });
  if (upstream.failWith) throw upstream.failWith;
  return response;
}

const fakeConfigs = {
  getNamespaceSettings: (request: unknown) => answer('getNamespaceSettings', request, upstream.settings),
  setNamespaceSettings: (request: unknown) =>
    answer(
      'setNamespaceSettings',
      request,
      create(SetNamespaceSettingsResponseSchema, {
        settings: create(NamespaceSettingsSchema, {
          namespace: 'acme/chatbot',
          schema: fromJson(ValueSchema, true),
          environments: ['base', 'prod'],
          maxVersions: 10,
          version: 4n,
          updatedBy: 'u-admin',
          updatedAt,
        }),
      }),
    ),
};

const principal: Principal = { id: 'u-admin', type: 'user', roles: ['global-admin'] };
/** The policies the routes demanded, in order. */
const demanded: DemandedAccess[] = [];

@Module({
  controllers: [NamespacesController],
  providers: [
    { provide: CONFIG_CLIENT, useValue: fakeConfigs as unknown as ConfigClient },
    { provide: APP_GUARD, useValue: recordingGuard(principal, demanded) },
    { provide: APP_FILTER, useValue: new ErrorEnvelopeFilter(createLogger({ service: 'test', version: 'test', level: 'silent' })) },
  ],
})
class NamespaceRoutesModule {}

describe(NamespacesController.name, () => {
  let app: NestFastifyApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await listenOnLoopback(NamespaceRoutesModule));
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    upstream.calls = [];
    upstream.settings = inherited;
    upstream.failWith = undefined;
    demanded.length = 0;
  });

  const send = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> =>
    sendJson(baseUrl, method, url, body, headers);
  const lastCall = () => upstream.calls.at(-1);

  it('reads the settings that apply, with configs:read in no environment', async () => {
    const response = await send('GET', '/api/v1/namespaces/acme/chatbot?env=production');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      namespace: 'acme/chatbot',
      defined_at: 'acme',
      schema: { type: 'object' },
      key_schemas: { 'model*': { type: 'string' } },
      environments: ['base', 'dev', 'prod'],
      max_versions: null,
      version: 2,
      updated_by: 'u-1',
      updated_at: '2025-01-02T03:04:05.006Z',
    });
    expect(lastCall()).toEqual({ method: 'getNamespaceSettings', request: { namespace: 'acme/chatbot' } });
    expect(demanded).toEqual([{ permission: 'configs:read', environment: undefined }]);
  });

  it('shows the defaults with nulls and version 0 when no settings apply', async () => {
    upstream.settings = defaults;
    const response = await send('GET', '/api/v1/namespaces/acme/chatbot/');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      namespace: 'acme/chatbot',
      defined_at: null,
      schema: null,
      key_schemas: {},
      environments: [],
      max_versions: null,
      version: 0,
      updated_by: null,
      updated_at: null,
    });
    expect(lastCall()?.request).toEqual({ namespace: 'acme/chatbot' });
  });

  it('needs a namespace in the path', async () => {
    const response = await send('GET', '/api/v1/namespaces/');
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'VALIDATION_ERROR', message: 'path must be a namespace, e.g. acme/chatbot' });
    expect(upstream.calls).toEqual([]);
  });

  it('replaces the settings with configs:write in no environment, answering them defined at the namespace', async () => {
    const body = {
      schema: true,
      key_schemas: { 'model*': { type: 'string' }, 'legacy-*': false },
      environments: ['base', 'prod'],
      max_versions: 10,
      expected_version: 3,
    };
    const response = await send('PUT', '/api/v1/namespaces/acme/chatbot?env=development', body);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      namespace: 'acme/chatbot',
      defined_at: 'acme/chatbot',
      schema: true,
      key_schemas: {},
      environments: ['base', 'prod'],
      max_versions: 10,
      version: 4,
      updated_by: 'u-admin',
      updated_at: '2025-01-02T03:04:05.006Z',
    });
    expect(lastCall()).toEqual({
      method: 'setNamespaceSettings',
      request: {
        namespace: 'acme/chatbot',
        schema: fromJson(ValueSchema, true),
        keySchemas: { 'model*': fromJson(ValueSchema, { type: 'string' }), 'legacy-*': fromJson(ValueSchema, false) },
        environments: ['base', 'prod'],
        maxVersions: 10,
        expectedVersion: 3n,
      },
    });
    expect(demanded).toEqual([{ permission: 'configs:write', environment: undefined }]);
  });

  it('unsets what the body leaves out, and takes the expected version from If-Match unless the body has one', async () => {
    await send('PUT', '/api/v1/namespaces/acme', {});
    expect(lastCall()?.request).toEqual({ namespace: 'acme', schema: undefined, keySchemas: {}, environments: [], maxVersions: 0, expectedVersion: undefined });
    await send('PUT', '/api/v1/namespaces/acme', {}, { 'if-match': '"0"' });
    expect(lastCall()?.request).toMatchObject({ expectedVersion: 0n });
    await send('PUT', '/api/v1/namespaces/acme', { expected_version: 2 }, { 'if-match': '"5"' });
    expect(lastCall()?.request).toMatchObject({ expectedVersion: 2n });
    const badTag = await send('PUT', '/api/v1/namespaces/acme', {}, { 'if-match': '*' });
    expect(badTag.statusCode).toBe(400);
    expect(badTag.json().error.message).toBe('If-Match must be a version number up to 2147483647, e.g. "3"');
  });

  it('names a bad settings body', async () => {
    for (const [body, message] of [
      [{ environments: [] }, 'environments: must name 1 to 16 environments'],
      [{ schema: 'string' }, 'schema: must be a JSON Schema: an object, true or false'],
      [{ key_schemas: { 'model*': 1 } }, 'key_schemas.model*: must be a JSON Schema: an object, true or false'],
      [{ expected_version: -1 }, 'expected_version: must be a non-negative integer'],
      [{ max_versions: 0 }, 'max_versions: must be an integer from 1 to 10000'],
      [{ max_versions: 10_001 }, 'max_versions: must be an integer from 1 to 10000'],
      [{ max_versions: 2.5 }, 'max_versions: must be an integer from 1 to 10000'],
      [{ max_versions: '5' }, 'max_versions: must be an integer from 1 to 10000'],
      [{ environment: ['base'] }, 'unknown field(s): environment'],
      [undefined, 'request body must be a JSON object'],
    ] as const) {
      const response = await send('PUT', '/api/v1/namespaces/acme', body);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'VALIDATION_ERROR', message });
    }
    expect(upstream.calls).toEqual([]);
  });

  it('maps config-manager refusals through the error envelope', async () => {
    for (const [code, httpStatus, errorCode] of [
      [status.ABORTED, 409, 'CONFLICT'],
      [status.INVALID_ARGUMENT, 400, 'VALIDATION_ERROR'],
      [status.PERMISSION_DENIED, 403, 'FORBIDDEN'],
    ] as const) {
      upstream.failWith = new GrpcCallError(code, 'refused');
      const response = await send('PUT', '/api/v1/namespaces/acme', { environments: ['base'] });
      expect(response.statusCode).toBe(httpStatus);
      expect(response.json().error).toMatchObject({ code: errorCode, message: 'refused' });
    }
    upstream.failWith = new GrpcCallError(status.INVALID_ARGUMENT, 'namespace segment 1 "Acme" must match [a-z0-9][a-z0-9._-]{0,62}');
    const badNamespace = await send('GET', '/api/v1/namespaces/Acme');
    expect(badNamespace.statusCode).toBe(400);
    expect(badNamespace.json().error.message).toMatch(/^namespace segment 1/);
  });

  it('documents the routes in a valid OpenAPI 3 document', async () => {
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('test').setVersion('1').build());
    const validation = await new Validator().validate(document as never);
    expect(validation.errors ?? []).toEqual([]);
    const [, operations] = Object.entries(document.paths).find(([name]) => name.startsWith('/api/v1/namespaces/'))!;
    expect(Object.keys(operations)).toEqual(expect.arrayContaining(['get', 'put']));
    expect(operations.put?.requestBody).toMatchObject({
      content: { 'application/json': { schema: { type: 'object', additionalProperties: false } } },
    });
  });
});
