import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { create, fromJson } from '@bufbuild/protobuf';
import { timestampFromDate, ValueSchema } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import {
  BulkApplyResponseSchema,
  Classification,
  ConfigEntrySchema,
  DeleteConfigResponseSchema,
  GetConfigHistoryResponseSchema,
  GetConfigResponseSchema,
  RollbackConfigResponseSchema,
  SetConfigResponseSchema,
  UndeleteConfigResponseSchema,
  ValidateConfigsResponseSchema,
  WatchConfigsResponseSchema,
  ChangeType,
  type WatchConfigsResponse,
} from '@llmops/contracts';
import type { Principal } from '@llmops/platform-auth';
import { GrpcCallError, type CallOptions } from '@llmops/platform-grpc';
import { createLogger } from '@llmops/platform-observability';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ACCESS_POLICY } from '../access/access-policy.decorator.js';
import { ErrorEnvelopeFilter } from '../errors/error-envelope.filter.js';
import { listenOnLoopback, recordingGuard, type DemandedAccess, sendJson, type HttpAnswer } from '../testing/route-testing.js';
import { CONFIG_CLIENT, type ConfigClient } from '../upstreams/upstream-clients.js';
import { ConfigsController } from './configs.controller.js';

const entry = (version: number, deleted = false) =>
  create(ConfigEntrySchema, {
    namespace: 'acme/chatbot',
    key: 'model',
    environment: 'production',
    value: deleted ? undefined : fromJson(ValueSchema, { name: `v${version}` }),
    version: BigInt(version),
    revision: BigInt(40 + version),
    classification: Classification.INTERNAL,
    updatedBy: 'u-1',
    updatedAt: timestampFromDate(new Date('2025-01-02T03:04:05.006Z')),
    deleted,
  });

/** What the fake upstream was asked, and whether it fails next. */
const upstream = {
  calls: [] as Array<{ method: string; request: unknown }>,
  failWith: undefined as Error | undefined,
};

async function answer<T>(method: string, request: unknown, response: T): Promise<T> {
  upstream.calls.push({ method, request });
  if (upstream.failWith) throw upstream.failWith;
  return response;
}

const change = (version: number, deleted = false): WatchConfigsResponse =>
  create(WatchConfigsResponseSchema, {
    type: deleted ? ChangeType.DELETE : ChangeType.PUT,
    entry: entry(version, deleted),
    revision: BigInt(40 + version),
  });

/**
 * What the fake watch streams: as config-manager, a created response first when asked for one (unless it plays one
 * too old to know them), or refuseWith before anything; then its changes, then it fails with failWith or waits until
 * the call is cancelled.
 */
const watch = {
  changes: [] as WatchConfigsResponse[],
  refuseWith: undefined as Error | undefined,
  sendsCreated: true,
  failWith: undefined as Error | undefined,
  options: [] as Array<CallOptions | undefined>,
  /** Resolved when the fake sees its call's signal aborted. */
  cancelled: Promise.resolve(),
};

function fakeWatch(request: { notifyCreated?: boolean }, options: CallOptions | undefined): AsyncIterable<WatchConfigsResponse> {
  upstream.calls.push({ method: 'watchConfigs', request });
  watch.options.push(options);
  const { changes, failWith, refuseWith, sendsCreated } = watch;
  let seeAbort!: () => void;
  watch.cancelled = new Promise((resolve) => (seeAbort = resolve));
  return (async function* () {
    if (refuseWith) {
      seeAbort();
      throw refuseWith;
    }
    if (request.notifyCreated && sendsCreated) yield create(WatchConfigsResponseSchema, { created: true, revision: 40n });
    yield* changes;
    if (failWith) throw failWith;
    const signal = options!.signal!;
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    seeAbort();
    throw new GrpcCallError(status.CANCELLED, 'cancelled by the caller');
  })();
}

const fakeConfigs = {
  watchConfigs: fakeWatch,
  getConfig: (request: unknown) => answer('getConfig', request, create(GetConfigResponseSchema, { entry: entry(3), resolvedFrom: 'base' })),
  setConfig: (request: unknown) => answer('setConfig', request, create(SetConfigResponseSchema, { entry: entry(4) })),
  deleteConfig: (request: unknown) => answer('deleteConfig', request, create(DeleteConfigResponseSchema, { version: 5n, revision: 45n })),
  getConfigHistory: (request: unknown) =>
    answer('getConfigHistory', request, create(GetConfigHistoryResponseSchema, { entries: [entry(5, true), entry(4)], nextBeforeVersion: 4n })),
  rollbackConfig: (request: unknown) => answer('rollbackConfig', request, create(RollbackConfigResponseSchema, { entry: entry(6) })),
  undeleteConfig: (request: unknown) => answer('undeleteConfig', request, create(UndeleteConfigResponseSchema, { entry: entry(6) })),
  bulkApply: (request: unknown) =>
    answer('bulkApply', request, create(BulkApplyResponseSchema, { entries: [entry(4), { ...entry(5, true), namespace: 'acme', key: 'old' }] })),
  validateConfigs: (request: unknown) =>
    answer(
      'validateConfigs',
      request,
      create(ValidateConfigsResponseSchema, {
        valid: false,
        results: [
          { key: 'model', valid: true },
          { key: 'temperature', valid: false, problems: [{ path: '', message: 'must be <= 2' }] },
        ],
      }),
    ),
};

/** Reads a text/event-stream response as it arrives, a block (an event or a comment, up to its blank line) at a time. */
class EventStreamReader {
  private readonly reader: ReadableStreamDefaultReader<string>;
  private buffer = '';

  constructor(response: Response) {
    this.reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The raw text of the next `count` blocks, blank lines included. */
  async blocks(count: number): Promise<string> {
    let text = '';
    for (let read = 0; read < count; read++) {
      let end: number;
      while ((end = this.buffer.indexOf('\n\n')) < 0) {
        const { value, done } = await this.reader.read();
        if (done) throw new Error(`the stream ended after ${JSON.stringify(text + this.buffer)}`);
        this.buffer += value;
      }
      text += this.buffer.slice(0, end + 2);
      this.buffer = this.buffer.slice(end + 2);
    }
    return text;
  }

  /** Everything left until the server ends the response. */
  async rest(): Promise<string> {
    for (;;) {
      const { value, done } = await this.reader.read();
      if (done) return this.buffer;
      this.buffer += value;
    }
  }

  async cancel(): Promise<void> {
    await this.reader.cancel();
  }
}

const principal: Principal = { id: 'u-admin', type: 'user', roles: ['global-admin'] };
/** The policies the routes demanded, in order. */
const demanded: DemandedAccess[] = [];

@Module({
  controllers: [ConfigsController],
  providers: [
    { provide: CONFIG_CLIENT, useValue: fakeConfigs as unknown as ConfigClient },
    { provide: APP_GUARD, useValue: recordingGuard(principal, demanded) },
    { provide: APP_FILTER, useValue: new ErrorEnvelopeFilter(createLogger({ service: 'test', version: 'test', level: 'silent' })) },
  ],
})
class ConfigRoutesModule {}

describe(ConfigsController.name, () => {
  let app: NestFastifyApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await listenOnLoopback(ConfigRoutesModule));
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    upstream.calls = [];
    upstream.failWith = undefined;
    watch.changes = [];
    watch.refuseWith = undefined;
    watch.sendsCreated = true;
    watch.failWith = undefined;
    watch.options = [];
    demanded.length = 0;
  });

  const send = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> =>
    sendJson(baseUrl, method, url, body, headers);
  const lastCall = () => upstream.calls.at(-1);

  it('reads a key, with deleted false in the view', async () => {
    const response = await send('GET', '/api/v1/configs/acme/chatbot/model?env=production&exact=true');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      namespace: 'acme/chatbot',
      key: 'model',
      environment: 'production',
      value: { name: 'v3' },
      version: 3,
      revision: 43,
      classification: 'internal',
      updated_by: 'u-1',
      updated_at: '2025-01-02T03:04:05.006Z',
      deleted: false,
      resolved_from: 'base',
    });
    expect(lastCall()).toEqual({
      method: 'getConfig',
      request: { namespace: 'acme/chatbot', key: 'model', environment: 'production', exact: true, resolveSecrets: false },
    });
    expect(demanded).toEqual([{ permission: 'configs:read', environment: 'production' }]);
  });

  it('lists the history newest first, tombstones included, with the next page', async () => {
    const response = await send('GET', '/api/v1/configs/acme/chatbot/model/history?env=production&before_version=6&limit=2&unknown=1');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.next_before_version).toBe(4);
    expect(body.data).toHaveLength(2);
    expect(body.data[0]).toMatchObject({ version: 5, deleted: true, value: null });
    expect(body.data[1]).toMatchObject({ version: 4, deleted: false, value: { name: 'v4' } });
    expect(lastCall()).toEqual({
      method: 'getConfigHistory',
      request: { namespace: 'acme/chatbot', key: 'model', environment: 'production', beforeVersion: 6n, limit: 2 },
    });
    expect(demanded).toEqual([{ permission: 'configs:read', environment: 'production' }]);
  });

  it('asks for the newest page by default, and names a bad history parameter', async () => {
    await send('GET', '/api/v1/configs/acme/model/history?env=dev');
    expect(lastCall()?.request).toEqual({ namespace: 'acme', key: 'model', environment: 'dev', beforeVersion: 0n, limit: 0 });
    const bad = await send('GET', '/api/v1/configs/acme/model/history?env=dev&limit=501');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'VALIDATION_ERROR', message: 'limit: must be an integer from 1 to 500' });
    const noEnv = await send('GET', '/api/v1/configs/acme/model/history');
    expect(noEnv.statusCode).toBe(400);
    expect(noEnv.json().error.message).toBe('query parameter env is required, e.g. ?env=development');
  });

  it('reads GET …/rollback as a key named rollback, for config-manager to refuse', async () => {
    await send('GET', '/api/v1/configs/acme/model/rollback?env=dev');
    expect(lastCall()).toMatchObject({ method: 'getConfig', request: { namespace: 'acme/model', key: 'rollback' } });
  });

  it('rolls back with configs:write, taking expected_version from the body or If-Match', async () => {
    const response = await send('POST', '/api/v1/configs/acme/chatbot/model/rollback?env=production', { version: 2, expected_version: 5 });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ namespace: 'acme/chatbot', key: 'model', version: 6, deleted: false, value: { name: 'v6' } });
    expect(lastCall()).toEqual({
      method: 'rollbackConfig',
      request: { namespace: 'acme/chatbot', key: 'model', environment: 'production', version: 2n, expectedVersion: 5n },
    });
    expect(demanded).toEqual([{ permission: 'configs:write', environment: 'production' }]);
    await send('POST', '/api/v1/configs/acme/chatbot/model/rollback?env=production', { version: 2 }, { 'if-match': '"7"' });
    expect(lastCall()?.request).toMatchObject({ version: 2n, expectedVersion: 7n });
    await send('POST', '/api/v1/configs/acme/chatbot/model/rollback?env=production', { version: 2 });
    expect(lastCall()?.request).toMatchObject({ version: 2n, expectedVersion: undefined });
  });

  it('names a bad rollback body', async () => {
    for (const [body, message] of [
      [{}, 'version: is required'],
      [{ version: 0 }, 'version: must be a positive integer'],
      [undefined, 'request body must be a JSON object'],
    ] as const) {
      const response = await send('POST', '/api/v1/configs/acme/model/rollback?env=dev', body);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'VALIDATION_ERROR', message });
    }
    expect(upstream.calls).toEqual([]);
  });

  it('undeletes with or without a body', async () => {
    const response = await send('POST', '/api/v1/configs/acme/chatbot/model/undelete?env=production');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ version: 6, deleted: false });
    expect(lastCall()).toEqual({
      method: 'undeleteConfig',
      request: { namespace: 'acme/chatbot', key: 'model', environment: 'production', expectedVersion: undefined },
    });
    expect(demanded).toEqual([{ permission: 'configs:write', environment: 'production' }]);
    await send('POST', '/api/v1/configs/acme/chatbot/model/undelete?env=production', { expected_version: 5 });
    expect(lastCall()?.request).toMatchObject({ expectedVersion: 5n });
    await send('POST', '/api/v1/configs/acme/chatbot/model/undelete?env=production', undefined, { 'if-match': 'W/"5"' });
    expect(lastCall()?.request).toMatchObject({ expectedVersion: 5n });
  });

  it('answers a POST to any other path with 404 naming the actions', async () => {
    for (const path of ['acme/chatbot/model', 'acme/chatbot/model/history', 'acme/chatbot/model/restore']) {
      const response = await send('POST', `/api/v1/configs/${path}?env=dev`, {});
      expect(response.statusCode).toBe(404);
      expect(response.json().error).toMatchObject({
        code: 'NOT_FOUND',
        message: 'POST /api/v1/configs/<namespace>/<key>/<action> supports the actions rollback, undelete, and <namespace>/validate',
      });
    }
    expect(upstream.calls).toEqual([]);
  });

  it('validates values under a namespace of any depth with configs:read and no environment', async () => {
    const response = await send('POST', '/api/v1/configs/acme/chatbot/validate?env=production', { values: { model: 'gpt', temperature: 3 } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      valid: false,
      results: [
        { key: 'model', valid: true, problems: [] },
        { key: 'temperature', valid: false, problems: [{ path: '', message: 'must be <= 2' }] },
      ],
    });
    expect(lastCall()).toEqual({
      method: 'validateConfigs',
      request: { namespace: 'acme/chatbot', values: { model: fromJson(ValueSchema, 'gpt'), temperature: fromJson(ValueSchema, 3) } },
    });
    expect(demanded).toEqual([{ permission: 'configs:read', environment: undefined }]);
    for (const namespace of ['acme', 'a/b/c/d/e/f/g', 'acme/validate']) {
      await send('POST', `/api/v1/configs/${namespace}/validate`, { values: { model: null } });
      expect(lastCall()?.request).toMatchObject({ namespace, values: { model: fromJson(ValueSchema, null) } });
    }
    expect(demanded.every((policy) => policy.permission === 'configs:read')).toBe(true);
  });

  it('still rolls back a key under a namespace segment named validate', async () => {
    await send('POST', '/api/v1/configs/acme/validate/model/rollback?env=dev', { version: 2 });
    expect(lastCall()).toMatchObject({ method: 'rollbackConfig', request: { namespace: 'acme/validate', key: 'model' } });
    expect(demanded).toEqual([{ permission: 'configs:write', environment: 'dev' }]);
  });

  it('names a bad validate body or path', async () => {
    const tooMany = Object.fromEntries(Array.from({ length: 501 }, (_, index) => [`k${index}`, index]));
    for (const [body, message] of [
      [{}, 'values: is required'],
      [{ values: {} }, 'values: must hold 1 to 500 keys'],
      [{ values: tooMany }, 'values: must hold 1 to 500 keys'],
      [{ values: [1] }, 'values: must be an object of values by key'],
      [{ values: { model: 1 }, env: 'dev' }, 'unknown field(s): env'],
      [undefined, 'request body must be a JSON object'],
    ] as const) {
      const response = await send('POST', '/api/v1/configs/acme/validate', body);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'VALIDATION_ERROR', message });
    }
    // validate needs a namespace before it.
    expect((await send('POST', '/api/v1/configs/validate', { values: { model: 1 } })).statusCode).toBe(404);
    expect(upstream.calls).toEqual([]);
  });

  it('maps config-manager refusals through the error envelope', async () => {
    upstream.failWith = new GrpcCallError(status.FAILED_PRECONDITION, 'current version is 6, not 5');
    const conflict = await send('POST', '/api/v1/configs/acme/model/undelete?env=dev', { expected_version: 5 });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error).toMatchObject({ code: 'CONFLICT', message: 'current version is 6, not 5' });
    upstream.failWith = new GrpcCallError(status.NOT_FOUND, 'version 9 of acme/model does not exist');
    const missing = await send('POST', '/api/v1/configs/acme/model/rollback?env=dev', { version: 9 });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('NOT_FOUND');
  });

  it('applies a bulk request as one BulkApply, each operation a case of the oneof, answering a view per operation', async () => {
    const response = await send('POST', '/api/v1/configs/bulk', {
      operations: [
        { op: 'set', path: 'acme/chatbot/model', env: 'production', value: { name: 'v4' }, classification: 'internal', expected_version: 3 },
        { op: 'delete', path: 'acme/old', env: 'dev' },
      ],
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      results: [
        {
          namespace: 'acme/chatbot',
          key: 'model',
          environment: 'production',
          value: { name: 'v4' },
          version: 4,
          revision: 44,
          classification: 'internal',
          updated_by: 'u-1',
          updated_at: '2025-01-02T03:04:05.006Z',
          deleted: false,
        },
        {
          namespace: 'acme',
          key: 'old',
          environment: 'production',
          value: null,
          version: 5,
          revision: 45,
          classification: 'internal',
          updated_by: 'u-1',
          updated_at: '2025-01-02T03:04:05.006Z',
          deleted: true,
        },
      ],
    });
    expect(upstream.calls).toEqual([
      {
        method: 'bulkApply',
        request: {
          operations: [
            {
              operation: {
                case: 'set',
                value: {
                  namespace: 'acme/chatbot',
                  key: 'model',
                  environment: 'production',
                  value: fromJson(ValueSchema, { name: 'v4' }),
                  classification: Classification.INTERNAL,
                  expectedVersion: 3n,
                },
              },
            },
            { operation: { case: 'delete', value: { namespace: 'acme', key: 'old', environment: 'dev', expectedVersion: undefined } } },
          ],
        },
      },
    ]);
    // Any authenticated principal may ask; config-manager authorizes each operation in its own environment.
    expect(demanded).toEqual([]);
    expect(Reflect.getMetadata(ACCESS_POLICY, ConfigsController.prototype.bulkApply)).toEqual({ kind: 'authenticated' });
  });

  it('maps a bulk set without a classification or expected_version to the defaults', async () => {
    await send('POST', '/api/v1/configs/bulk', { operations: [{ op: 'set', path: 'a/b/c/key', env: 'dev', value: [1, 'x', null] }] });
    expect(lastCall()?.request).toEqual({
      operations: [
        {
          operation: {
            case: 'set',
            value: {
              namespace: 'a/b/c',
              key: 'key',
              environment: 'dev',
              value: fromJson(ValueSchema, [1, 'x', null]),
              classification: Classification.UNSPECIFIED,
              expectedVersion: undefined,
            },
          },
        },
      ],
    });
  });

  it('names the failing operation of a bad bulk body, calling nothing', async () => {
    const set = { op: 'set', path: 'acme/model', env: 'dev', value: 1 };
    for (const [body, message] of [
      [{ operations: [set, set, set, { op: 'delete', path: 'acme/model' }] }, 'operations.3.env: is required'],
      [{ operations: [set, { ...set, path: 'model' }] }, 'operations.1.path: must be <namespace>/<key>, e.g. acme/chatbot/model'],
      [{ operations: [{ op: 'set', path: 'acme/model', env: 'dev' }] }, 'operations.0.value: is required'],
      [{ operations: [set, { ...set, op: 'delete' }] }, 'operations.1: unknown field(s): value'],
      [{ operations: [{ ...set, op: 'merge' }] }, 'operations.0.op: must be set or delete'],
      [{ operations: [set, { ...set, expected_version: -1 }] }, 'operations.1.expected_version: must be a non-negative integer'],
      [{ operations: [] }, 'operations: must hold 1 to 1000 operations'],
      [{ operations: Array.from({ length: 1001 }, () => set) }, 'operations: must hold 1 to 1000 operations'],
      [{ operations: [set], dry_run: true }, 'unknown field(s): dry_run'],
      [{}, 'operations: is required'],
      [undefined, 'request body must be a JSON object'],
    ] as const) {
      const response = await send('POST', '/api/v1/configs/bulk', body);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'VALIDATION_ERROR', message });
    }
    expect(upstream.calls).toEqual([]);
  });

  it('is not captured by POST *, which still serves paths under a namespace or key named bulk', async () => {
    await send('POST', '/api/v1/configs/bulk?env=production', { operations: [{ op: 'delete', path: 'acme/model', env: 'dev' }] });
    expect(lastCall()?.method).toBe('bulkApply');
    expect(demanded).toEqual([]);
    await send('POST', '/api/v1/configs/bulk/model/rollback?env=dev', { version: 2 });
    expect(lastCall()).toMatchObject({ method: 'rollbackConfig', request: { namespace: 'bulk', key: 'model' } });
    await send('POST', '/api/v1/configs/bulk/validate', { values: { model: 1 } });
    expect(lastCall()).toMatchObject({ method: 'validateConfigs', request: { namespace: 'bulk' } });
    expect(demanded).toEqual([
      { permission: 'configs:write', environment: 'dev' },
      { permission: 'configs:read', environment: undefined },
    ]);
  });

  it("passes config-manager's refusal of one operation through, as 409 for a version conflict", async () => {
    upstream.failWith = new GrpcCallError(status.ABORTED, 'operation 1: current version of acme/model in dev is 6, not 5');
    const conflict = await send('POST', '/api/v1/configs/bulk', {
      operations: [
        { op: 'set', path: 'acme/other', env: 'dev', value: 1 },
        { op: 'delete', path: 'acme/model', env: 'dev', expected_version: 5 },
      ],
    });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error).toMatchObject({ code: 'CONFLICT', message: 'operation 1: current version of acme/model in dev is 6, not 5' });
    upstream.failWith = new GrpcCallError(status.PERMISSION_DENIED, 'operation 0: configs:write is not granted in production');
    const denied = await send('POST', '/api/v1/configs/bulk', { operations: [{ op: 'set', path: 'acme/model', env: 'production', value: 1 }] });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error).toMatchObject({ code: 'FORBIDDEN', message: 'operation 0: configs:write is not granted in production' });
  });

  it('keeps PUT and DELETE as they were, with deleted in the PUT view', async () => {
    const put = await send('PUT', '/api/v1/configs/acme/model?env=dev', { value: 1, expected_version: 3 });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ version: 4, deleted: false });
    expect(demanded).toEqual([{ permission: 'configs:write', environment: 'dev' }]);
    const deleted = await send('DELETE', '/api/v1/configs/acme/model?env=dev', undefined, { 'if-match': '"4"' });
    expect(deleted.json()).toEqual({ namespace: 'acme', key: 'model', environment: 'dev', version: 5, revision: 45, deleted: true });
    expect(lastCall()?.request).toMatchObject({ expectedVersion: 4n });
  });

  describe('GET …/<namespace>/watch', () => {
    const eventOf = (version: number, type: 'put' | 'delete') => {
      const deleted = type === 'delete';
      const data = {
        revision: 40 + version,
        type,
        entry: {
          namespace: 'acme/chatbot',
          key: 'model',
          environment: 'production',
          value: deleted ? null : { name: `v${version}` },
          version,
          revision: 40 + version,
          classification: 'internal',
          updated_by: 'u-1',
          updated_at: '2025-01-02T03:04:05.006Z',
          deleted,
        },
      };
      return `id: ${40 + version}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
    };

    /** Opens a watch; the caller reads it and closes it. */
    const openWatch = async (url: string, headers: Record<string, string> = {}) => {
      const connection = new AbortController();
      const response = await fetch(baseUrl + url, { headers: { accept: 'text/event-stream', ...headers }, signal: connection.signal });
      return { response, events: new EventStreamReader(response), disconnect: () => connection.abort() };
    };

    it('streams each change as an event, flushed as it comes, with configs:read and no environment', async () => {
      watch.changes = [change(4), change(5, true), change(6)];
      const { response, events, disconnect } = await openWatch('/api/v1/configs/acme/chatbot/watch?env=production');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-accel-buffering')).toBe('no');
      expect(response.headers.get('connection')).toBe('close');
      // The upstream is still open: all of this arrived before the response ends.
      expect(await events.blocks(4)).toBe(
        ': watching acme/chatbot from revision next\n\n' + eventOf(4, 'put') + eventOf(5, 'delete') + eventOf(6, 'put'),
      );
      disconnect();
      expect(upstream.calls).toEqual([{ method: 'watchConfigs', request: { namespacePrefix: 'acme/chatbot', startRevision: 0n, notifyCreated: true } }]);
      // env is not what the gateway checks: config-manager sends only the environments the caller may read.
      expect(demanded).toEqual([{ permission: 'configs:read', environment: undefined }]);
      // No deadline and no timeout: a watch stays open for as long as the client wants.
      expect(watch.options).toEqual([{ metadata: expect.objectContaining({ 'x-request-id': expect.any(String) }), signal: expect.any(AbortSignal) }]);
    });

    it('cancels the upstream call when the client disconnects', async () => {
      watch.changes = [change(4)];
      const { events, disconnect } = await openWatch('/api/v1/configs/acme/watch');
      await events.blocks(2);
      const signal = watch.options[0]!.signal!;
      expect(signal.aborted).toBe(false);
      disconnect();
      await watch.cancelled;
      expect(signal.aborted).toBe(true);
    });

    it('also cancels an idle watch that has sent nothing but its opening comment', async () => {
      const { events } = await openWatch('/api/v1/configs/acme/watch');
      expect(await events.blocks(1)).toBe(': watching acme from revision next\n\n');
      await events.cancel();
      await watch.cancelled;
      expect(watch.options[0]!.signal!.aborted).toBe(true);
    });

    it('ends the response when the upstream fails after the stream started', async () => {
      watch.changes = [change(4)];
      watch.failWith = new GrpcCallError(status.UNAVAILABLE, 'config-manager went away');
      const { response, events } = await openWatch('/api/v1/configs/acme/chatbot/watch');
      expect(response.status).toBe(200);
      expect(await events.blocks(2)).toBe(': watching acme/chatbot from revision next\n\n' + eventOf(4, 'put'));
      expect(await events.rest()).toBe('');
    });

    it('answers a start at or below the compacted revision with 410, naming the oldest revision it may resume from', async () => {
      const message = 'start_revision 7 is compacted: max_versions pruned versions up to revision 30';
      watch.refuseWith = new GrpcCallError(status.OUT_OF_RANGE, message, {
        'error-code': 'REVISION_COMPACTED',
        'error-field': 'start_revision',
        'compacted-revision': '30',
      });
      const response = await send('GET', '/api/v1/configs/acme/watch', undefined, { 'last-event-id': '6' });
      expect(response.statusCode).toBe(410);
      expect(response.headers['content-type']).toContain('application/json');
      expect(response.json()).toEqual({
        error: { code: 'REVISION_COMPACTED', message, request_id: expect.any(String), compacted_revision: 30, oldest_resumable_revision: 31 },
      });
      expect(lastCall()).toEqual({ method: 'watchConfigs', request: { namespacePrefix: 'acme', startRevision: 7n, notifyCreated: true } });
      expect(watch.options[0]!.signal!.aborted).toBe(true);
    });

    it('answers a watch config-manager refuses for another reason with that status, not an empty stream', async () => {
      watch.refuseWith = new GrpcCallError(status.INVALID_ARGUMENT, 'namespace Bad is not a valid namespace', { 'error-code': 'INVALID_PATH' });
      const invalid = await send('GET', '/api/v1/configs/acme/watch');
      expect(invalid.statusCode).toBe(400);
      expect(invalid.json().error).toMatchObject({ code: 'VALIDATION_ERROR', message: 'namespace Bad is not a valid namespace' });
      // OUT_OF_RANGE without the compaction details is a plain client error.
      watch.refuseWith = new GrpcCallError(status.OUT_OF_RANGE, 'start_revision is out of range');
      expect((await send('GET', '/api/v1/configs/acme/watch?start_revision=3')).statusCode).toBe(400);
    });

    it('streams the first change of a config-manager too old to send created first', async () => {
      watch.sendsCreated = false;
      watch.changes = [change(4), change(5)];
      const { response, events, disconnect } = await openWatch('/api/v1/configs/acme/chatbot/watch');
      expect(response.status).toBe(200);
      expect(await events.blocks(3)).toBe(': watching acme/chatbot from revision next\n\n' + eventOf(4, 'put') + eventOf(5, 'put'));
      disconnect();
      await watch.cancelled;
    });

    it('starts at start_revision, or after the Last-Event-ID a reconnecting client sends, which wins', async () => {
      for (const [url, headers, startRevision, opening] of [
        ['/api/v1/configs/acme/watch?start_revision=7', {}, 7n, 'from revision 7'],
        ['/api/v1/configs/acme/watch?start_revision=0', {}, 0n, 'from revision next'],
        ['/api/v1/configs/acme/watch?start_revision=7', { 'last-event-id': '45' }, 46n, 'from revision 46'],
        ['/api/v1/configs/acme/watch', { 'last-event-id': '0' }, 1n, 'from revision 1'],
        // An empty Last-Event-ID is no event seen, as the SSE spec has it.
        ['/api/v1/configs/acme/watch?start_revision=3', { 'last-event-id': '' }, 3n, 'from revision 3'],
      ] as const) {
        const { events, disconnect } = await openWatch(url, headers);
        expect(await events.blocks(1)).toBe(`: watching acme ${opening}\n\n`);
        expect(lastCall()).toEqual({ method: 'watchConfigs', request: { namespacePrefix: 'acme', startRevision, notifyCreated: true } });
        disconnect();
        await watch.cancelled;
      }
    });

    it('answers a bad start_revision or Last-Event-ID with 400 naming it, calling nothing', async () => {
      for (const [query, headers, message] of [
        ['start_revision=-1', {}, 'start_revision: must be a non-negative integer'],
        ['start_revision=abc', {}, 'start_revision: must be a non-negative integer'],
        ['start_revision=1.5', {}, 'start_revision: must be a non-negative integer'],
        ['start_revision=1&start_revision=2', {}, 'start_revision: must be a non-negative integer'],
        ['start_revision=1x', { 'last-event-id': '4' }, 'start_revision: must be a non-negative integer'],
        ['', { 'last-event-id': 'abc' }, 'Last-Event-ID: must be the id of an event, a revision (a non-negative integer)'],
        ['start_revision=3', { 'last-event-id': '-1' }, 'Last-Event-ID: must be the id of an event, a revision (a non-negative integer)'],
        ['', { 'last-event-id': '1234567890123456' }, 'Last-Event-ID: must be the id of an event, a revision (a non-negative integer)'],
      ] as const) {
        const response = await send('GET', `/api/v1/configs/acme/watch?${query}`, undefined, headers);
        expect(response.statusCode).toBe(400);
        expect(response.json().error).toMatchObject({ code: 'VALIDATION_ERROR', message });
      }
      expect(upstream.calls).toEqual([]);
    });

    it('watches a namespace of any depth, and reads a key under a namespace segment named watch', async () => {
      for (const [path, namespace] of [
        ['a/b/c/d/e/f/g/watch', 'a/b/c/d/e/f/g'],
        ['acme/watch/', 'acme'],
        ['acme/watch/watch', 'acme/watch'],
      ] as const) {
        const { events, disconnect } = await openWatch(`/api/v1/configs/${path}`);
        expect(await events.blocks(1)).toBe(`: watching ${namespace} from revision next\n\n`);
        expect(lastCall()).toEqual({ method: 'watchConfigs', request: { namespacePrefix: namespace, startRevision: 0n, notifyCreated: true } });
        disconnect();
        await watch.cancelled;
      }
      demanded.length = 0;
      const read = await send('GET', '/api/v1/configs/acme/watch/model?env=dev');
      expect(read.statusCode).toBe(200);
      expect(lastCall()).toMatchObject({ method: 'getConfig', request: { namespace: 'acme/watch', key: 'model', environment: 'dev' } });
      await send('GET', '/api/v1/configs/acme/model/history?env=dev');
      expect(lastCall()?.method).toBe('getConfigHistory');
      // Reads still demand configs:read in their env.
      expect(demanded).toEqual([
        { permission: 'configs:read', environment: 'dev' },
        { permission: 'configs:read', environment: 'dev' },
      ]);
    });

    it('ends open watches when the gateway shuts down, so that it can', async () => {
      const second = await listenOnLoopback(ConfigRoutesModule);
      const response = await fetch(`${second.baseUrl}/api/v1/configs/acme/watch`);
      const events = new EventStreamReader(response);
      await events.blocks(1);
      await second.app.close();
      expect(await events.rest()).toBe('');
      await watch.cancelled;
    });
  });

  it('documents the routes in a valid OpenAPI 3 document', async () => {
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('test').setVersion('1').build());
    const validation = await new Validator().validate(document as never);
    expect(validation.errors ?? []).toEqual([]);
    const [path, operations] = Object.entries(document.paths).find(([name]) => name.startsWith('/api/v1/configs/'))!;
    expect(Object.keys(operations)).toEqual(expect.arrayContaining(['get', 'put', 'post', 'delete']));
    // The validate routes are documented with POST '*', whose body may be a validate body too.
    expect(Object.keys(document.paths).filter((name) => name.endsWith('/validate'))).toEqual([]);
    expect(JSON.stringify(operations.post?.requestBody)).toContain('"values"');
    const bulk = document.paths['/api/v1/configs/bulk'];
    expect(Object.keys(bulk ?? {})).toEqual(['post']);
    expect(JSON.stringify(bulk?.post?.requestBody)).toContain('"operations"');
    expect(document.paths[path]?.get?.parameters?.map((parameter) => ('name' in parameter ? parameter.name : undefined))).toEqual(
      expect.arrayContaining(['env', 'exact', 'before_version', 'limit', 'start_revision', 'Last-Event-ID']),
    );
    const read = document.paths[path]?.get?.responses?.['200'];
    expect(read && 'content' in read ? Object.keys(read.content ?? {}) : []).toEqual(['application/json', 'text/event-stream']);
  });
});
