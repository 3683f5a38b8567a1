import type { DescMethod, DescService } from '@bufbuild/protobuf';
import { MethodOptions_IdempotencyLevel } from '@bufbuild/protobuf/wkt';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  BreakerOpenError,
  BreakerTimeoutError,
  createBreaker,
  retry,
  type Breaker,
  type BreakerOptions,
  type RetryOptions,
} from '@llmops/platform-resilience';
import type { Registry } from 'prom-client';
import { methodDefinition } from './codec.js';
import { GrpcCallError } from './grpc-errors.js';
import type { GrpcLogger } from './grpc-logger.js';
import type { CallOptions, GrpcClient } from './service-types.js';

export interface GrpcClientOptions {
  /** host:port */
  address: string;
  /** Deadline of unary calls without their own. Default 5000 ms. Streams have none unless given. */
  defaultDeadlineMs?: number;
  breaker?: Partial<Omit<BreakerOptions, 'registry'>> | false;
  retry?: RetryOptions | false;
  logger?: GrpcLogger;
  registry?: Registry;
}

/** Statuses that say the server (not the request) is in trouble; only these count against the breaker. */
const SERVER_FAILURES = new Set([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED, status.INTERNAL, status.UNKNOWN]);
/** Metadata that travels from a server call to the calls it makes. */
const PROPAGATED_METADATA = /^x-(request-id|actor-)/;

type UnaryArgs = [method: DescMethod, request: unknown, options: CallOptions | undefined];

/**
 * A typed client over one channel. Unary calls go through an opossum breaker; methods the contract marks
 * NO_SIDE_EFFECTS or IDEMPOTENT are retried with backoff when the server was unavailable.
 */
export function createGrpcClient<S extends DescService>(service: S, options: GrpcClientOptions): GrpcClient<S> {
  const channel = new Client(options.address, credentials.createInsecure());
  const defaultDeadlineMs = options.defaultDeadlineMs ?? 5_000;

  const unary = (signal: AbortSignal, ...[method, request, callOptions]: UnaryArgs): Promise<unknown> => {
    const definition = methodDefinition(service, method);
    return new Promise((resolve, reject) => {
      const call = channel.makeUnaryRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        request,
        metadataOf(callOptions),
        { deadline: deadlineOf(callOptions, defaultDeadlineMs) },
        (error: ServiceError | null, response?: unknown) =>
          error ? reject(GrpcCallError.fromServiceError(error)) : resolve(response),
      );
      const cancel = (): void => call.cancel();
      signal.addEventListener('abort', cancel, { once: true });
      callOptions?.signal?.addEventListener('abort', cancel, { once: true });
    });
  };

  const breaker: Breaker<UnaryArgs, unknown> | undefined =
    options.breaker === false
      ? undefined
      : createBreaker(unary, {
          name: `grpc:${service.typeName}@${options.address}`,
          // The deadline is the real timeout; the breaker's only catches a call that never settles.
          timeoutMs: defaultDeadlineMs * 2 + 1_000,
          isFailure: (error) => !(error instanceof GrpcCallError) || SERVER_FAILURES.has(error.code),
          registry: options.registry,
          ...options.breaker,
        });

  const callUnary = async (method: DescMethod, request: unknown, callOptions?: CallOptions): Promise<unknown> => {
    const once = async (): Promise<unknown> => {
      try {
        return breaker ? await breaker.fire(method, request, callOptions) : await unary(new AbortController().signal, method, request, callOptions);
      } catch (error) {
        if (error instanceof BreakerOpenError) throw new GrpcCallError(status.UNAVAILABLE, error.message);
        if (error instanceof BreakerTimeoutError) throw new GrpcCallError(status.DEADLINE_EXCEEDED, error.message);
        throw error;
      }
    };
    if (options.retry === false || !isIdempotent(method)) return once();
    return retry(once, {
      retries: 2,
      baseDelayMs: 50,
      maxDelayMs: 1_000,
      ...options.retry,
      signal: callOptions?.signal,
      // A call that ran out of its deadline has no time left to retry; an open breaker will not close in time.
      shouldRetry: (error) => error instanceof GrpcCallError && error.code === status.UNAVAILABLE && !/circuit breaker/.test(error.message),
    });
  };

  const callStream = (method: DescMethod, request: unknown, callOptions?: CallOptions): AsyncIterable<unknown> => ({
    [Symbol.asyncIterator]: () => {
      const definition = methodDefinition(service, method);
      const deadline = callOptions?.deadline || callOptions?.timeoutMs || callOptions?.parent?.deadline ? deadlineOf(callOptions, 0) : undefined;
      const call = channel.makeServerStreamRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        request,
        metadataOf(callOptions),
        deadline ? { deadline } : {},
      );
      callOptions?.signal?.addEventListener('abort', () => call.cancel(), { once: true });
      const iterator = (call as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      return {
        next: async () => {
          try {
            return await iterator.next();
          } catch (error) {
            throw isServiceError(error) ? GrpcCallError.fromServiceError(error) : error;
          }
        },
        return: async () => {
          call.cancel();
          return { done: true, value: undefined };
        },
      };
    },
  });

  const client: Record<string, unknown> = {
    close: () => {
      breaker?.shutdown();
      channel.close();
    },
  };
  for (const method of service.methods) {
    client[method.localName] =
      method.methodKind === 'server_streaming'
        ? (request: unknown, callOptions?: CallOptions) => callStream(method, request, callOptions)
        : (request: unknown, callOptions?: CallOptions) => callUnary(method, request, callOptions);
  }
  return client as GrpcClient<S>;
}

function isIdempotent(method: DescMethod): boolean {
  return (
    method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ||
    method.idempotency === MethodOptions_IdempotencyLevel.IDEMPOTENT
  );
}

function isServiceError(error: unknown): error is ServiceError {
  return typeof (error as ServiceError | undefined)?.code === 'number' && 'metadata' in (error as object);
}

/** The earliest of the call's own deadline, its timeout and its parent's deadline. */
function deadlineOf(options: CallOptions | undefined, defaultMs: number): Date {
  const candidates: number[] = [];
  if (options?.deadline) candidates.push(options.deadline.getTime());
  if (options?.timeoutMs) candidates.push(Date.now() + options.timeoutMs);
  if (options?.parent?.deadline) candidates.push(options.parent.deadline.getTime());
  if (candidates.length === 0) candidates.push(Date.now() + defaultMs);
  return new Date(Math.min(...candidates));
}

function metadataOf(options: CallOptions | undefined): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(options?.parent?.metadata ?? {})) {
    if (PROPAGATED_METADATA.test(key)) metadata.set(key, value);
  }
  if (options?.parent && !options.parent.metadata['x-request-id']) metadata.set('x-request-id', options.parent.requestId);
  for (const [key, value] of Object.entries(options?.metadata ?? {})) metadata.set(key, value);
  return metadata;
}
