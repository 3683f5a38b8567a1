import { create, type DescService } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { AuditService, ConfigEntrySchema, ConfigService, type ConfigEntry } from '@llmops/contracts';
import { currentRequestContext } from '@llmops/platform-observability';
import { Registry } from 'prom-client';
import { createGrpcClient, type GrpcClientOptions } from './grpc-client.js';
import { GrpcCallError, GrpcStatusError, MAX_STATUS_TEXT } from './grpc-errors.js';
import { GrpcServer, type GrpcServerOptions } from './grpc-server.js';
import type { CallContext, ServiceImplementation } from './service-types.js';

type ConfigImpl = ServiceImplementation<typeof ConfigService>;
type AuditImpl = ServiceImplementation<typeof AuditService>;

const CONFIG_SERVICE = 'llmops.config.v1.ConfigService';

const entry = (key: string, revision = 1, value = `v-${key}`): ConfigEntry =>
  create(ConfigEntrySchema, {
    namespace: 'acme',
    key,
    environment: 'production',
    value: create(ValueSchema, { kind: { case: 'stringValue', value } }),
    version: 1n,
    revision: BigInt(revision),
  });

class DomainNotFound extends Error {}

/** Every method of `service` answering UNIMPLEMENTED, for tests that serve only some of them. */
function unimplemented<S extends DescService>(service: S): ServiceImplementation<S> {
  const handlers = Object.keys(service.method).map((name) => [
    name,
    async () => {
      throw new GrpcStatusError(status.UNIMPLEMENTED, `${name} is not served in this test`);
    },
  ]);
  return Object.fromEntries(handlers) as ServiceImplementation<S>;
}

function configImplementation(overrides: Partial<ConfigImpl> = {}): ConfigImpl {
  return {
    ...unimplemented(ConfigService),
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

/** The audit handlers these tests call; every other AuditService method answers UNIMPLEMENTED. */
const auditImplementation: AuditImpl = {
  ...unimplemented(AuditService),
  queryAuditLog: async function* () {
    yield { entry: { id: 'e1', action: 'config.set', sequence: 0n }, cursor: 'c1' };
  },
  verifyIntegrity: async (request) => ({ valid: true, treeSize: request.treeSize || 7n }),
};

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(condition: () => boolean, withinMs = 2_000): Promise<void> {
  const until = Date.now() + withinMs;
  while (!condition() && Date.now() < until) await sleep(10);
}

async function serve(
  impl: ConfigImpl,
  options: Partial<GrpcServerOptions> = {},
): Promise<{ server: GrpcServer; address: string; registry: Registry }> {
  const registry = new Registry();
  const server = new GrpcServer({
    host: '127.0.0.1',
    port: 0,
    registry,
    errorMapper: (error) =>
      error instanceof DomainNotFound ? new GrpcStatusError(status.NOT_FOUND, error.message, { 'error-code': 'NOT_FOUND' }) : undefined,
    ...options,
  });
  server.addService(ConfigService, impl).addService(AuditService, auditImplementation);
  const bound = await server.start();
  cleanups.push(() => server.stop(100));
  return { server, address: `127.0.0.1:${bound}`, registry };
}

function configClient(address: string, options: Partial<GrpcClientOptions> = {}) {
  const client = createGrpcClient(ConfigService, { address, registry: new Registry(), ...options });
  cleanups.push(() => client.close());
  return client;
}

function rawClient(address: string): Client {
  const client = new Client(address, credentials.createInsecure());
  cleanups.push(() => client.close());
  return client;
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

describe(GrpcServer.name, () => {
  it('round-trips a unary call and counts it', async () => {
    const { address, registry } = await serve(configImplementation());
    const response = await configClient(address).getConfig({ namespace: 'acme', key: 'model', environment: 'staging' });
    expect(response.entry?.key).toBe('model');
    expect(response.entry?.value?.kind).toEqual({ case: 'stringValue', value: 'v-model' });
    expect(response.resolvedFrom).toBe('staging');
    expect(await registry.metrics()).toContain(
      `grpc_server_handled_total{grpc_service="${CONFIG_SERVICE}",grpc_method="GetConfig",grpc_code="OK"} 1`,
    );
  });

  it('serves several services from one server (AuditService next to ConfigService)', async () => {
    const { address } = await serve(configImplementation());
    const audit = createGrpcClient(AuditService, { address, registry: new Registry() });
    cleanups.push(() => audit.close());
    expect(await audit.verifyIntegrity({ treeSize: 3n })).toMatchObject({ valid: true, treeSize: 3n });
    const entries = [];
    for await (const item of audit.queryAuditLog({ limit: 1 })) entries.push(item);
    expect(entries.map((item) => item.entry?.action)).toEqual(['config.set']);
  });

  it('streams many messages and stops the server iterator when the client cancels', async () => {
    let produced = 0;
    let finished = false;
    const { address } = await serve(
      configImplementation({
        watchConfigs: async function* (_request, ctx) {
          try {
            while (!ctx.signal.aborted) {
              produced++;
              yield { revision: BigInt(produced), entry: entry(`k${produced}`, produced) };
              await sleep(1);
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
    const client = configClient(address);
    const listed: string[] = [];
    for await (const item of client.listConfigs({ namespace: 'acme' })) listed.push(item.entry!.key);
    expect(listed).toHaveLength(2000);
    expect(listed[1999]).toBe('k1999');

    const seen: bigint[] = [];
    for await (const change of client.watchConfigs({ namespacePrefix: 'acme' })) {
      seen.push(change.revision);
      if (seen.length === 5) break;
    }
    expect(seen).toEqual([1n, 2n, 3n, 4n, 5n]);
    await eventually(() => finished);
    expect(finished).toBe(true);
  });

  it('stops a stream blocked on back-pressure when the client cancels', async () => {
    let finished = false;
    let handlerSignal: AbortSignal | undefined;
    const big = 'x'.repeat(256 * 1024);
    const { address } = await serve(
      configImplementation({
        // Produces far faster than the client reads: the server soon waits for the transport to drain.
        listConfigs: async function* (_request, ctx) {
          handlerSignal = ctx.signal;
          try {
            for (let i = 0; ; i++) yield { entry: entry(`k${i}`, i, big) };
          } finally {
            finished = true;
          }
        },
      }),
    );
    let read = 0;
    for await (const item of configClient(address).listConfigs({})) {
      expect(item.entry?.value?.kind.value).toBe(big);
      await sleep(50);
      if (++read === 2) break;
    }
    await eventually(() => finished);
    expect(finished).toBe(true);
    expect(handlerSignal?.aborted).toBe(true);
  });

  it('carries a status, message and details to the client', async () => {
    const { address } = await serve(
      configImplementation({
        getConfig: async () => {
          throw new GrpcStatusError(status.ABORTED, 'version conflict', { 'error-code': 'VERSION_CONFLICT', 'error-field': 'expected_version' });
        },
        setConfig: async () => {
          throw new DomainNotFound('no such namespace');
        },
        deleteConfig: async () => {
          throw new GrpcStatusError(status.INVALID_ARGUMENT, 'bad key', { 'error-field': 'clé\n', 'bad key!': 'dropped' });
        },
      }),
    );
    const client = configClient(address);
    const error = await failure(client.getConfig({ key: 'x' }));
    expect(error.code).toBe(status.ABORTED);
    expect(error.message).toBe('version conflict');
    expect(error.details).toMatchObject({ 'error-code': 'VERSION_CONFLICT', 'error-field': 'expected_version' });
    const mapped = await failure(client.setConfig({ key: 'x' }));
    expect(mapped.code).toBe(status.NOT_FOUND);
    expect(mapped.message).toBe('no such namespace');
    expect(mapped.details['error-code']).toBe('NOT_FOUND');
    // Trailers are printable ASCII: a detail that is not still arrives (percent-encoded) instead of breaking the answer.
    const unsafe = await failure(client.deleteConfig({ key: 'x' }));
    expect(unsafe.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeURIComponent(unsafe.details['error-field']!)).toBe('clé\n');
    expect(unsafe.details['bad key!']).toBeUndefined();
  });

  it('cuts a status message quoting a huge input, so the channel other calls share keeps working', async () => {
    const huge = 'A'.repeat(100_000);
    const { address } = await serve(
      configImplementation({
        getConfig: async () => ({}),
        setConfig: async () => {
          throw new GrpcStatusError(status.INVALID_ARGUMENT, `version "${huge}" is not a semantic version`, { 'error-detail': huge });
        },
      }),
    );
    const client = configClient(address);
    const error = await failure(client.setConfig({ key: 'x' }));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.message.length).toBeLessThanOrEqual(MAX_STATUS_TEXT);
    expect(error.message).toMatch(/^version "AAAA.*\.\.\. \(100036 chars\)$/);
    expect(error.details['error-detail']!.length).toBeLessThanOrEqual(MAX_STATUS_TEXT);
    await expect(client.getConfig({ key: 'x' })).resolves.toBeDefined();
  });

  it('answers INTERNAL "internal error" for unmapped errors, without leaking them', async () => {
    const logged: object[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (o: object) => void logged.push(o) };
    const { address } = await serve(
      configImplementation({
        getConfig: async () => {
          throw new Error('password=hunter2 in a stack');
        },
        setConfig: async () => {
          throw new TypeError('mapper trips on this');
        },
        watchConfigs: async function* () {
          yield { revision: 1n };
          throw new Error('secret detail');
        },
      }),
      {
        logger,
        errorMapper: (error) => {
          if (error instanceof TypeError) throw new Error('mapper bug');
          return undefined;
        },
      },
    );
    const client = configClient(address);
    const error = await failure(client.getConfig({}));
    expect(error.code).toBe(status.INTERNAL);
    expect(error.message).toBe('internal error');
    expect(logged).toContainEqual(expect.objectContaining({ err: expect.objectContaining({ message: 'password=hunter2 in a stack' }) }));

    const received: bigint[] = [];
    const streamError = await failure(
      (async () => {
        for await (const change of client.watchConfigs({})) received.push(change.revision);
      })(),
    );
    expect(received).toEqual([1n]);
    expect(streamError.code).toBe(status.INTERNAL);
    expect(streamError.message).toBe('internal error');

    // An error mapper that throws must not leave the call unanswered.
    expect(await failure(client.setConfig({}))).toMatchObject({ code: status.INTERNAL, message: 'internal error' });
  });

  it('answers INVALID_ARGUMENT to bytes that are not the request message', async () => {
    const { address } = await serve(configImplementation());
    const raw = rawClient(address);
    const error = await new Promise<ServiceError>((resolve, reject) =>
      raw.makeUnaryRequest(
        `/${CONFIG_SERVICE}/GetConfig`,
        (bytes: Buffer) => bytes,
        (bytes: Buffer) => bytes,
        Buffer.from([0x0a, 0x05, 0x61]), // field 1, length 5, then only one byte
        new Metadata(),
        (failed) => (failed ? resolve(failed) : reject(new Error('expected INVALID_ARGUMENT'))),
      ),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/^invalid request message/);
  });

  it('enforces deadlines and aborts the handler', async () => {
    let handlerSignal: AbortSignal | undefined;
    const { address } = await serve(
      configImplementation({
        getConfig: (_request, ctx) => {
          handlerSignal = ctx.signal;
          return new Promise(() => undefined);
        },
      }),
    );
    const error = await failure(configClient(address).getConfig({}, { timeoutMs: 100 }));
    expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    await eventually(() => handlerSignal?.aborted === true);
    expect(handlerSignal?.aborted).toBe(true);
  });

  it("runs each handler in a request context carrying the caller's request id", async () => {
    let seenInHandler: string | undefined;
    const { address } = await serve(
      configImplementation({
        getConfig: async (request) => {
          await sleep(5);
          seenInHandler = currentRequestContext()?.requestId;
          return { entry: entry(request.key) };
        },
      }),
    );
    await configClient(address).getConfig({ key: 'k' }, { metadata: { 'x-request-id': 'req-ctx-7' } });
    expect(seenInHandler).toBe('req-ctx-7');
  });
});

describe(createGrpcClient.name, () => {
  it('propagates the parent deadline and identity to downstream calls', async () => {
    let seen: CallContext | undefined;
    const { address } = await serve(
      configImplementation({
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
    await configClient(address).getConfig({ key: 'k' }, { parent, timeoutMs: 60_000 });
    expect(seen?.requestId).toBe('req-42');
    expect(seen?.metadata['x-actor-id']).toBe('u1');
    expect(seen?.metadata.authorization).toBeUndefined();
    // The server sees the deadline as a relative timeout, so allow for rounding.
    expect(seen!.deadline!.getTime()).toBeLessThanOrEqual(parent.deadline!.getTime() + 50);
  });

  it("cancels a call when the caller's or the parent's signal aborts, and the handler hears of it", async () => {
    const handlerSignals: AbortSignal[] = [];
    const { address } = await serve(
      configImplementation({
        getConfig: (_request, ctx) => {
          handlerSignals.push(ctx.signal);
          return new Promise(() => undefined);
        },
      }),
    );
    const client = configClient(address);
    const own = new AbortController();
    const ownCall = failure(client.getConfig({}, { signal: own.signal }));
    await eventually(() => handlerSignals.length === 1);
    own.abort();
    expect((await ownCall).code).toBe(status.CANCELLED);

    const parentController = new AbortController();
    const parent: CallContext = { metadata: {}, requestId: 'r', signal: parentController.signal, peer: 'test' };
    const childCall = failure(client.getConfig({}, { parent }));
    await eventually(() => handlerSignals.length === 2);
    parentController.abort();
    expect((await childCall).code).toBe(status.CANCELLED);

    await eventually(() => handlerSignals.every((signal) => signal.aborted));
    expect(handlerSignals.map((signal) => signal.aborted)).toEqual([true, true]);
  });

  it('retries an idempotent call (GetConfig) across a transient UNAVAILABLE, but never a write (SetConfig)', async () => {
    let reads = 0;
    let writes = 0;
    const { address } = await serve(
      configImplementation({
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
    const client = configClient(address, { retry: { baseDelayMs: 1 } });
    const response = await client.getConfig({ key: 'k' });
    expect(response.entry?.key).toBe('k');
    expect(reads).toBe(3);
    expect((await failure(client.setConfig({ key: 'k' }))).code).toBe(status.UNAVAILABLE);
    expect(writes).toBe(1);
  });

  it('does not retry statuses that say the request itself is wrong', async () => {
    let reads = 0;
    const { address } = await serve(
      configImplementation({
        getConfig: async () => {
          reads++;
          throw new DomainNotFound('no such key');
        },
      }),
    );
    expect((await failure(configClient(address, { retry: { baseDelayMs: 1 } }).getConfig({}))).code).toBe(status.NOT_FOUND);
    expect(reads).toBe(1);
  });

  it('opens the breaker when the server is gone and then fails fast', async () => {
    const { server, address } = await serve(configImplementation());
    await server.stop(10);
    const client = configClient(address, { retry: false, breaker: { volumeThreshold: 3, resetTimeoutMs: 60_000 }, defaultDeadlineMs: 300 });
    for (let i = 0; i < 3; i++) expect((await failure(client.getConfig({}))).code).toBe(status.UNAVAILABLE);
    const fast = await failure(client.getConfig({}));
    expect(fast.code).toBe(status.UNAVAILABLE);
    expect(fast.message).toMatch(/circuit breaker grpc:llmops\.config\.v1\.ConfigService@127\.0\.0\.1:\d+ is open/);
  });

  it('keeps the breaker closed for answers about the request (NOT_FOUND, a domain RESOURCE_EXHAUSTED)', async () => {
    let calls = 0;
    const { address } = await serve(
      configImplementation({
        getConfig: async () => {
          calls++;
          throw new DomainNotFound('no such key');
        },
        setConfig: async () => {
          calls++;
          throw new GrpcStatusError(status.RESOURCE_EXHAUSTED, 'value too large', { 'error-code': 'VALUE_TOO_LARGE' });
        },
      }),
    );
    const client = configClient(address, { retry: false, breaker: { volumeThreshold: 2, resetTimeoutMs: 60_000 } });
    for (let i = 0; i < 4; i++) {
      expect((await failure(client.getConfig({}))).code).toBe(status.NOT_FOUND);
      expect((await failure(client.setConfig({}))).code).toBe(status.RESOURCE_EXHAUSTED);
    }
    expect(calls).toBe(8);
  });
});

describe('health and reflection', () => {
  /** grpc.health.v1 HealthCheckRequest { string service = 1 } → HealthCheckResponse { ServingStatus status = 1 }. */
  function healthCheck(raw: Client, service: string): Promise<number> {
    return new Promise((resolve, reject) =>
      raw.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        (name: string) => Buffer.from(new BinaryWriter().tag(1, WireType.LengthDelimited).string(name).finish()),
        (bytes: Buffer) => readFields(bytes, { 1: (reader) => reader.int32() })[1] ?? 0,
        service,
        new Metadata(),
        (error, servingStatus) => (error ? reject(error) : resolve(servingStatus as number)),
      ),
    );
  }

  /**
   * ServerReflectionRequest { string list_services = 7 } → ServerReflectionResponse { ListServiceResponse
   * list_services_response = 6 { repeated ServiceResponse service = 1 { string name = 1 } } }.
   */
  function listServices(raw: Client, version: 'v1' | 'v1alpha'): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const call = raw.makeBidiStreamRequest(
        `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
        (bytes: Uint8Array) => Buffer.from(bytes),
        (bytes: Buffer) => bytes,
        new Metadata(),
      );
      call.on('data', (bytes: Buffer) => {
        const names: string[] = [];
        readFields(bytes, {
          6: (reader) =>
            readFields(reader.bytes(), {
              1: (service) => names.push(readFields(service.bytes(), { 1: (name) => name.string() })[1] as string),
            }),
        });
        resolve(names);
        call.end();
      });
      call.on('error', reject);
      call.write(new BinaryWriter().tag(7, WireType.LengthDelimited).string('*').finish());
    });
  }

  it('serves grpc.health.v1.Health for each service, and NOT_SERVING once told', async () => {
    const { server, address } = await serve(configImplementation());
    const raw = rawClient(address);
    expect(await healthCheck(raw, CONFIG_SERVICE)).toBe(1); // SERVING
    expect(await healthCheck(raw, 'llmops.audit.v1.AuditService')).toBe(1);
    expect(await healthCheck(raw, '')).toBe(1);
    server.setServingStatus(CONFIG_SERVICE, 'NOT_SERVING');
    expect(await healthCheck(raw, CONFIG_SERVICE)).toBe(2); // NOT_SERVING
  });

  it('lists exactly its services through server reflection v1 and v1alpha', async () => {
    const { address } = await serve(configImplementation());
    const raw = rawClient(address);
    const served = [CONFIG_SERVICE, 'llmops.audit.v1.AuditService', 'grpc.health.v1.Health'];
    expect((await listServices(raw, 'v1')).sort()).toEqual([...served].sort());
    expect((await listServices(raw, 'v1alpha')).sort()).toEqual([...served].sort());
  });
});

/** Reads the fields of one message, handing the wanted ones to their reader and skipping the rest. */
function readFields(bytes: Uint8Array, readers: Record<number, (reader: BinaryReader) => unknown>): Record<number, unknown> {
  const reader = new BinaryReader(bytes);
  const values: Record<number, unknown> = {};
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    const read = readers[fieldNo];
    if (read) values[fieldNo] = read(reader);
    else reader.skip(wireType);
  }
  return values;
}
