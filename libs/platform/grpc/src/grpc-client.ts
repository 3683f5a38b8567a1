import type { DescMethod, DescService } from '@bufbuild/protobuf';
import { MethodOptions_IdempotencyLevel } from '@bufbuild/protobuf/wkt';
import { Client, credentials, Metadata, status, type MethodDefinition, type ServiceError } from '@grpc/grpc-js';
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
  /** Deadline of unary calls without their own. Default 5000 ms. Streams (watches are long-lived) have none unless given. */
  defaultDeadlineMs?: number;
  /** Overrides of the unary-call breaker's defaults; `false` for none. */
  breaker?: Partial<BreakerOptions> | false;
  /** Backoff of retried calls (idempotent methods only); `false` for none. */
  retry?: RetryOptions | false;
  logger?: GrpcLogger;
  /** Where the breaker's metrics go; prom-client's default otherwise. */
  registry?: Registry;
}

/** Statuses that say the server (not the request) is in trouble; only these count against the breaker. */
const SERVER_FAILURES: ReadonlySet<status> = new Set([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.INTERNAL,
  status.UNKNOWN,
]);
/** Metadata that travels from a server call to the calls it makes. */
const PROPAGATED_METADATA = /^x-(request-id|actor-)/;
/** Below this much time left before the deadline a retry could only fail again. */
const RETRY_MIN_REMAINING_MS = 50;

/** One unary call as the breaker sees it: everything fixed once, so retries share the caller's deadline. */
interface UnaryCall {
  method: DescMethod;
  request: unknown;
  deadline: Date;
  options: CallOptions | undefined;
  signal: AbortSignal | undefined;
}

/**
 * A typed client over one channel to `address`. Unary calls go through an opossum breaker; methods the contract
 * marks NO_SIDE_EFFECTS or IDEMPOTENT are retried with backoff while the server is unavailable.
 */
export function createGrpcClient<S extends DescService>(service: S, options: GrpcClientOptions): GrpcClient<S> {
  const channel = new Client(options.address, credentials.createInsecure());
  const definitions = new Map(service.methods.map((method) => [method, methodDefinition(service, method)]));
  const definitionOf = (method: DescMethod): MethodDefinition<unknown, unknown> => definitions.get(method)!;
  const defaultDeadlineMs = options.defaultDeadlineMs ?? 5_000;
  const logger = options.logger;

  const sendUnary = (breakerSignal: AbortSignal, call: UnaryCall): Promise<unknown> => {
    const definition = definitionOf(call.method);
    const cancelOn = call.signal ? AbortSignal.any([breakerSignal, call.signal]) : breakerSignal;
    if (cancelOn.aborted) return Promise.reject(cancelledByCaller());
    return new Promise((resolve, reject) => {
      const pending = channel.makeUnaryRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        call.request,
        metadataOf(call.options),
        { deadline: call.deadline },
        (error: ServiceError | null, response?: unknown) => {
          cancelOn.removeEventListener('abort', cancel);
          if (error) reject(GrpcCallError.fromServiceError(error));
          else resolve(response);
        },
      );
      const cancel = (): void => pending.cancel();
      cancelOn.addEventListener('abort', cancel, { once: true });
    });
  };

  const breakerName = `grpc:${service.typeName}@${options.address}`;
  const breaker: Breaker<[UnaryCall], unknown> | undefined =
    options.breaker === false
      ? undefined
      : createBreaker(sendUnary, {
          name: breakerName,
          // Every call carries its own deadline; a breaker-wide timeout would cut calls given a longer one.
          timeoutMs: false,
          isFailure: isServerFailure,
          registry: options.registry,
          onStateChange: (state) =>
            state === 'closed'
              ? logger?.info({ breaker: breakerName, state }, 'gRPC circuit breaker closed')
              : logger?.warn({ breaker: breakerName, state }, `gRPC circuit breaker ${state}`),
          ...options.breaker,
        });

  const callUnary = async (method: DescMethod, request: unknown, callOptions?: CallOptions): Promise<unknown> => {
    const retryOptions = options.retry === false || !isIdempotent(method) ? undefined : (options.retry ?? {});
    const signal = anySignal([callOptions?.signal, callOptions?.parent?.signal, retryOptions?.signal]);
    const call: UnaryCall = { method, request, deadline: deadlineOf(callOptions, defaultDeadlineMs), options: callOptions, signal };
    const attempt = (): Promise<unknown> => (breaker ? breaker.fire(call) : sendUnary(new AbortController().signal, call));
    try {
      if (!retryOptions) return await attempt();
      return await retry(attempt, {
        retries: 2,
        baseDelayMs: 50,
        maxDelayMs: 1_000,
        ...retryOptions,
        signal,
        shouldRetry: (error, attemptNumber) => {
          const again = isRetryable(error, call.deadline) && (retryOptions.shouldRetry?.(error, attemptNumber) ?? true);
          if (again) logger?.debug({ method: definitionOf(method).path, attempt: attemptNumber, err: error }, 'retrying gRPC call');
          return again;
        },
      });
    } catch (error) {
      throw asCallError(error, signal);
    }
  };

  const callStream = (method: DescMethod, request: unknown, callOptions?: CallOptions): AsyncIterable<unknown> => ({
    [Symbol.asyncIterator]: () => {
      const definition = definitionOf(method);
      const hasDeadline = Boolean(callOptions?.deadline || callOptions?.timeoutMs || callOptions?.parent?.deadline);
      const call = channel.makeServerStreamRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        request,
        metadataOf(callOptions),
        hasDeadline ? { deadline: deadlineOf(callOptions, 0) } : {},
      );
      const signal = anySignal([callOptions?.signal, callOptions?.parent?.signal]);
      const cancel = (): void => call.cancel();
      const release = (): void => signal?.removeEventListener('abort', cancel);
      if (signal?.aborted) cancel();
      else signal?.addEventListener('abort', cancel, { once: true });
      // The call is a Readable: its iterator buffers only up to the high-water mark, so a slow consumer slows the server.
      const messages = (call as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      return {
        next: async () => {
          try {
            const result = await messages.next();
            if (result.done) release();
            return result;
          } catch (error) {
            release();
            throw isServiceError(error) ? GrpcCallError.fromServiceError(error) : error;
          }
        },
        // Breaking out of `for await` lands here: tell the server to stop producing.
        return: async () => {
          release();
          call.cancel();
          await messages.return?.();
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
  // Built from the same descriptor the mapped type is computed from; TypeScript cannot follow the loop.
  return client as GrpcClient<S>;
}

function isIdempotent(method: DescMethod): boolean {
  return (
    method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ||
    method.idempotency === MethodOptions_IdempotencyLevel.IDEMPOTENT
  );
}

/**
 * Server trouble counts against the breaker; answers about the request do not. A status carrying an `error-code`
 * detail is a deliberate domain answer (e.g. RESOURCE_EXHAUSTED for a value too large), not trouble.
 */
function isServerFailure(error: unknown): boolean {
  if (!(error instanceof GrpcCallError)) return true;
  return SERVER_FAILURES.has(error.code) && error.details['error-code'] === undefined;
}

/**
 * Safe to send again (the method is idempotent): the server was unreachable, or it gave up on its own before our
 * deadline, and time is left. An open breaker will not close within a call's lifetime.
 */
function isRetryable(error: unknown, deadline: Date): boolean {
  if (!(error instanceof GrpcCallError)) return false;
  if (error.code !== status.UNAVAILABLE && error.code !== status.DEADLINE_EXCEEDED) return false;
  return deadline.getTime() - Date.now() > RETRY_MIN_REMAINING_MS;
}

/** Client calls reject with GrpcCallError only; retry() rethrows the abort reason, which may be anything. */
function asCallError(error: unknown, signal: AbortSignal | undefined): unknown {
  if (error instanceof GrpcCallError) return error;
  if (error instanceof BreakerOpenError) return new GrpcCallError(status.UNAVAILABLE, error.message);
  if (error instanceof BreakerTimeoutError) return new GrpcCallError(status.DEADLINE_EXCEEDED, error.message);
  if (signal?.aborted) return cancelledByCaller();
  return error;
}

function cancelledByCaller(): GrpcCallError {
  return new GrpcCallError(status.CANCELLED, 'cancelled by the caller');
}

function isServiceError(error: unknown): error is ServiceError {
  return typeof (error as ServiceError | undefined)?.code === 'number' && 'metadata' in (error as object);
}

function anySignal(signals: ReadonlyArray<AbortSignal | undefined>): AbortSignal | undefined {
  const present = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  return present.length <= 1 ? present[0] : AbortSignal.any(present);
}

/** The earliest of the call's own deadline, its timeout and its parent's deadline; `defaultMs` from now otherwise. */
function deadlineOf(options: CallOptions | undefined, defaultMs: number): Date {
  const candidates: number[] = [];
  if (options?.deadline) candidates.push(options.deadline.getTime());
  if (options?.timeoutMs) candidates.push(Date.now() + options.timeoutMs);
  if (options?.parent?.deadline) candidates.push(options.parent.deadline.getTime());
  if (candidates.length === 0) candidates.push(Date.now() + defaultMs);
  return new Date(Math.min(...candidates));
}

/** The parent's request id and actor, then the call's own metadata (which wins). */
function metadataOf(options: CallOptions | undefined): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(options?.parent?.metadata ?? {})) {
    if (PROPAGATED_METADATA.test(key)) metadata.set(key, value);
  }
  if (options?.parent && !options.parent.metadata['x-request-id']) metadata.set('x-request-id', options.parent.requestId);
  for (const [key, value] of Object.entries(options?.metadata ?? {})) metadata.set(key, value);
  return metadata;
}
