import { create } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import { ConfigEntrySchema, ConfigService, type ConfigEntry } from '@llmops/contracts';
import { currentRequestContext } from '@llmops/platform-observability';
import { Registry } from 'prom-client';
import { createGrpcClient, type GrpcClientOptions } from './grpc-client.js';
import { GrpcCallError, GrpcStatusError } from './grpc-errors.js';
import { GrpcServer } from './grpc-server.js';
import type { CallContext, ServiceImplementation } from './service-types.js';

type ConfigImpl = ServiceImplementation<typeof ConfigService>;

const entry = (key: string, revision = 1): ConfigEntry =>
  create(ConfigEntrySchema, {
    namespace: 'acme',
    key,
    environment: 'production',
    value: create(ValueSchema, { kind: { case: 'stringValue', value: `v-${key}` } }),
    version: 1n,
    revision: BigInt(revision),
  });

class DomainNotFound extends Error {}

function implementation(overrides: Partial<ConfigImpl> = {}): ConfigImpl {
  return {
    getConfig: async (request) => ({ entry: entry(request.key), resolvedFrom: request.environment }),
    setConfig: async (request) => ({ entry: entry(request.key) }),
    deleteConfig: async () => ({ version: 2n, revision: 3n }),
    listConfigs: async function* () {
      yield { entry: entry('a') };
    },
    watchConfigs: async function* () {
      yield { revision: 1n };
    },
    ...overrides,
  };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function serve(impl: ConfigImpl, port = 0): Promise<{ server: GrpcServer; address: string }> {
  const server = new GrpcServer({
    host: '127.0.0.1',
    port,
    registry: new Registry(),
    errorMapper: (error) =>
      error instanceof DomainNotFound ? new GrpcStatusError(status.NOT_FOUND, error.message, { 'error-code': 'NOT_FOUND' }) : undefined,
  });
  server.addService(ConfigService, impl);
  const bound = await server.start();
  cleanups.push(() => server.stop(100));
  return { server, address: `127.0.0.1:${bound}` };
}

function client(address: string, options: Partial<GrpcClientOptions> = {}) {
  const c = createGrpcClient(ConfigService, { address, registry: new Registry(), ...options });
  cleanups.push(() => c.close());
  return c;
}

async function failure(promise: Promise<unknown>): Promise<GrpcCallError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GrpcCallError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('gRPC server and client on protobuf-es descriptors', () => {
  it('round-trips a unary call', async () => {
    const { address } = await serve(implementation());
    const response = await client(address).getConfig({ namespace: 'acme', key: 'model', environment: 'staging' });
    expect(response.entry?.key).toBe('model');
    expect(response.entry?.value?.kind).toEqual({ case: 'stringValue', value: 'v-model' });
    expect(response.resolvedFrom).toBe('staging');
  });

  it('streams many messages and stops the server iterator when the client cancels', async () => {
    let produced = 0;
    let finished = false;
    const { address } = await serve(
      implementation({
        watchConfigs: async function* (_request, ctx) {
          try {
            while (!ctx.signal.aborted) {
              produced++;
              yield { revision: BigInt(produced), entry: entry(`k${produced}`, produced) };
              await new Promise((resolve) => setTimeout(resolve, 1));
            }
          } finally {
            finished = true;
          }
        },
        listConfigs: async function* () {
          for (let i = 0; i < 2000; i++) yield { entry: entry(`k${i}`) };
        },
      }),
    );
    const c = client(address);
    const listed: string[] = [];
    for await (const item of c.listConfigs({ namespace: 'acme' })) listed.push(item.entry!.key);
    expect(listed).toHaveLength(2000);
    expect(listed[1999]).toBe('k1999');

    const seen: bigint[] = [];
    for await (const change of c.watchConfigs({ namespacePrefix: 'acme' })) {
      seen.push(change.revision);
      if (seen.length === 5) break;
    }
    expect(seen).toEqual([1n, 2n, 3n, 4n, 5n]);
    const deadline = Date.now() + 2000;
    while (!finished && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(finished).toBe(true);
  });

  it('carries a status, message and details to the client', async () => {
    const { address } = await serve(
      implementation({
        getConfig: async () => {
          throw new GrpcStatusError(status.ABORTED, 'version conflict', { 'error-code': 'VERSION_CONFLICT', 'error-field': 'expected_version' });
        },
        setConfig: async () => {
          throw new DomainNotFound('no such namespace');
        },
      }),
    );
    const c = client(address);
    const error = await failure(c.getConfig({ key: 'x' }));
    expect(error.code).toBe(status.ABORTED);
    expect(error.message).toBe('version conflict');
    expect(error.details).toMatchObject({ 'error-code': 'VERSION_CONFLICT', 'error-field': 'expected_version' });
    const mapped = await failure(c.setConfig({ key: 'x' }));
    expect(mapped.code).toBe(status.NOT_FOUND);
    expect(mapped.message).toBe('no such namespace');
  });

  it('answers INTERNAL "internal error" for unmapped errors, without leaking them', async () => {
    const { address } = await serve(
      implementation({
        getConfig: async () => {
          throw new Error('password=hunter2 in a stack');
        },
        watchConfigs: async function* () {
          yield { revision: 1n };
          throw new Error('secret detail');
        },
      }),
    );
    const c = client(address);
    const error = await failure(c.getConfig({}));
    expect(error.code).toBe(status.INTERNAL);
    expect(error.message).toBe('internal error');
    const received: bigint[] = [];
    const streamError = await failure(
      (async () => {
        for await (const change of c.watchConfigs({})) received.push(change.revision);
      })(),
    );
    expect(received).toEqual([1n]);
    expect(streamError.code).toBe(status.INTERNAL);
    expect(streamError.message).toBe('internal error');
  });

  it('enforces deadlines and aborts the handler', async () => {
    let handlerSignal: AbortSignal | undefined;
    const { address } = await serve(
      implementation({
        getConfig: (_request, ctx) => {
          handlerSignal = ctx.signal;
          return new Promise(() => undefined);
        },
      }),
    );
    const error = await failure(client(address).getConfig({}, { timeoutMs: 100 }));
    expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    const deadline = Date.now() + 2000;
    while (!handlerSignal?.aborted && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(handlerSignal?.aborted).toBe(true);
  });

  it('runs each handler in a request context carrying the caller\'s request id', async () => {
    let seenInHandler: string | undefined;
    const { address } = await serve(
      implementation({
        getConfig: async (request) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          seenInHandler = currentRequestContext()?.requestId;
          return { entry: entry(request.key) };
        },
      }),
    );
    await client(address).getConfig({ key: 'k' }, { metadata: { 'x-request-id': 'req-ctx-7' } });
    expect(seenInHandler).toBe('req-ctx-7');
  });

  it('propagates the parent deadline and identity to downstream calls', async () => {
    let seen: CallContext | undefined;
    const { address } = await serve(
      implementation({
        getConfig: async (request, ctx) => {
          seen = ctx;
          return { entry: entry(request.key) };
        },
      }),
    );
    const parent: CallContext = {
      metadata: { 'x-request-id': 'req-42', 'x-actor-id': 'u1', authorization: 'Bearer secret' },
      requestId: 'req-42',
      deadline: new Date(Date.now() + 3_000),
      signal: new AbortController().signal,
      peer: 'test',
    };
    await client(address).getConfig({ key: 'k' }, { parent, timeoutMs: 60_000 });
    expect(seen?.requestId).toBe('req-42');
    expect(seen?.metadata['x-actor-id']).toBe('u1');
    expect(seen?.metadata.authorization).toBeUndefined();
    expect(seen!.deadline!.getTime()).toBeLessThanOrEqual(parent.deadline!.getTime() + 50);
  });

  it('retries an idempotent call across a transient UNAVAILABLE, but never a write', async () => {
    let reads = 0;
    let writes = 0;
    const { address } = await serve(
      implementation({
        getConfig: async (request) => {
          if (++reads < 3) throw new GrpcStatusError(status.UNAVAILABLE, 'warming up');
          return { entry: entry(request.key) };
        },
        setConfig: async () => {
          writes++;
          throw new GrpcStatusError(status.UNAVAILABLE, 'warming up');
        },
      }),
    );
    const c = client(address, { retry: { baseDelayMs: 1 } });
    const response = await c.getConfig({ key: 'k' });
    expect(response.entry?.key).toBe('k');
    expect(reads).toBe(3);
    expect((await failure(c.setConfig({ key: 'k' }))).code).toBe(status.UNAVAILABLE);
    expect(writes).toBe(1);
  });

  it('opens the breaker when the server is gone and then fails fast', async () => {
    const { server, address } = await serve(implementation());
    await server.stop(10);
    const c = client(address, { retry: false, breaker: { volumeThreshold: 3, resetTimeoutMs: 60_000 }, defaultDeadlineMs: 300 });
    for (let i = 0; i < 3; i++) expect((await failure(c.getConfig({}))).code).toBe(status.UNAVAILABLE);
    const fast = await failure(c.getConfig({}));
    expect(fast.code).toBe(status.UNAVAILABLE);
    expect(fast.message).toMatch(/circuit breaker .* is open/);
  });

  it('serves grpc.health.v1.Health for each service', async () => {
    const { server, address } = await serve(implementation());
    const raw = new Client(address, credentials.createInsecure());
    cleanups.push(() => raw.close());
    const check = (service: string): Promise<number> =>
      new Promise((resolve, reject) =>
        raw.makeUnaryRequest(
          '/grpc.health.v1.Health/Check',
          (value: string) => Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(value)]), Buffer.from(value)]),
          (bytes: Buffer) => (bytes.length >= 2 && bytes[0] === 0x08 ? bytes[1]! : 0),
          service,
          new Metadata(),
          (error, statusValue) => (error ? reject(error) : resolve(statusValue as number)),
        ),
      );
    expect(await check('llmops.config.v1.ConfigService')).toBe(1);
    expect(await check('')).toBe(1);
    server.setServingStatus('llmops.config.v1.ConfigService', 'NOT_SERVING');
    expect(await check('llmops.config.v1.ConfigService')).toBe(2);
  });

  it('lists its services through server reflection', async () => {
    const { address } = await serve(implementation());
    const raw = new Client(address, credentials.createInsecure());
    cleanups.push(() => raw.close());
    // ServerReflectionRequest { list_services = 7 } / response { list_services_response = 6 { service = 1 { name = 1 } } }
    const request = Buffer.concat([Buffer.from([0x3a, 1]), Buffer.from('*')]);
    const names = await new Promise<string[]>((resolve, reject) => {
      const call = raw.makeBidiStreamRequest(
        '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
        (value: Buffer) => value,
        (bytes: Buffer) => bytes,
        new Metadata(),
      );
      call.on('data', (bytes: Buffer) => {
        resolve(bytes.toString('latin1').match(/[a-z][\w.]+\.[A-Z]\w+/g) ?? []);
        call.end();
      });
      call.on('error', reject);
      call.write(request);
    });
    expect(names).toEqual(expect.arrayContaining(['llmops.config.v1.ConfigService', 'grpc.health.v1.Health']));
  });
});
