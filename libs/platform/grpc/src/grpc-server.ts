import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { create, type DescMessage, type DescService } from '@bufbuild/protobuf';
import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { requestContext } from '@llmops/platform-observability';
import { HealthImplementation } from 'grpc-health-check';
import { Counter, Histogram, register as defaultRegistry, type Registry } from 'prom-client';
import { methodDefinition, UndecodableRequest } from './codec.js';
import { GrpcStatusError, stringEntries } from './grpc-errors.js';
import type { GrpcLogger } from './grpc-logger.js';
import { addReflection } from './reflection.js';
import type { CallContext, ServiceImplementation } from './service-types.js';

export interface GrpcServerOptions {
  /** Default 0.0.0.0. */
  host?: string;
  /** 0 binds an ephemeral port; `start()` returns the bound one. */
  port: number;
  logger?: GrpcLogger;
  /** Turns a service's domain errors into statuses; unmapped errors become INTERNAL "internal error". */
  errorMapper?: (error: unknown) => GrpcStatusError | undefined;
  /** Where `grpc_server_handled_total` and `grpc_server_handling_seconds` go; prom-client's default otherwise. */
  registry?: Registry;
}

type Handler = (request: unknown, context: CallContext) => Promise<unknown> | AsyncIterable<unknown>;
type ServerCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;

/** Metric labels of one method. grpc_* names (as in go-grpc-prometheus) leave `service` to the registry's default label, the app name. */
interface MethodLabels {
  grpc_service: string;
  grpc_method: string;
}

/** A grpc-js server for protobuf-es services, with health checking and reflection built in. */
export class GrpcServer {
  private readonly server = new Server();
  private readonly health = new HealthImplementation({ '': 'NOT_SERVING' });
  private readonly services: DescService[] = [];
  private readonly metrics: ServerMetrics;

  constructor(private readonly options: GrpcServerOptions) {
    this.metrics = serverMetrics(options.registry ?? defaultRegistry);
  }

  addService<S extends DescService>(service: S, implementation: ServiceImplementation<S>): this {
    const handlers: UntypedServiceImplementation = {};
    const definition: Record<string, ReturnType<typeof methodDefinition>> = {};
    for (const method of service.methods) {
      const name = `${service.typeName}.${method.name}`;
      if (method.methodKind !== 'unary' && method.methodKind !== 'server_streaming') {
        throw new Error(`${name} is ${method.methodKind}, which GrpcServer does not serve`);
      }
      // The mapped type is keyed by localName; indexing it by a runtime string needs the untyped view.
      const handler = (implementation as unknown as Record<string, Handler>)[method.localName];
      if (typeof handler !== 'function') throw new Error(`${name} has no handler`);
      definition[method.localName] = methodDefinition(service, method);
      const labels: MethodLabels = { grpc_service: service.typeName, grpc_method: method.name };
      // Each call runs in its own request context, so every log line it causes carries the caller's request id.
      handlers[method.localName] =
        method.methodKind === 'server_streaming'
          ? (call: ServerWritableStream<unknown, unknown>) =>
              requestContext.run({ requestId: requestIdOf(call) }, () => void this.serveStream(call, handler, labels, method.output))
          : (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) =>
              requestContext.run({ requestId: requestIdOf(call) }, () => void this.serveUnary(call, callback, handler, labels, method.output));
    }
    this.server.addService(definition, handlers);
    this.services.push(service);
    return this;
  }

  /** Binds, then serves health (every added service SERVING, and '' overall) and reflection. Returns the port. */
  async start(): Promise<number> {
    this.health.addToServer(this.server);
    addReflection(this.server, this.services);
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(
        `${this.options.host ?? '0.0.0.0'}:${this.options.port}`,
        ServerCredentials.createInsecure(),
        (error, bound) => (error ? reject(error) : resolve(bound)),
      );
    });
    this.health.setStatus('', 'SERVING');
    for (const service of this.services) this.health.setStatus(service.typeName, 'SERVING');
    return port;
  }

  setServingStatus(serviceName: string, servingStatus: 'SERVING' | 'NOT_SERVING'): void {
    this.health.setStatus(serviceName, servingStatus);
  }

  /** Marks everything NOT_SERVING, lets calls in flight finish for `graceMs`, then cuts the rest. */
  async stop(graceMs = 5_000): Promise<void> {
    this.health.setStatus('', 'NOT_SERVING');
    for (const service of this.services) this.health.setStatus(service.typeName, 'NOT_SERVING');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async serveUnary(
    call: ServerUnaryCall<unknown, unknown>,
    callback: sendUnaryData<unknown>,
    handler: Handler,
    labels: MethodLabels,
    output: DescMessage,
  ): Promise<void> {
    const { context, done } = callContext(call);
    const stopTimer = this.metrics.duration.startTimer(labels);
    try {
      if (call.request instanceof UndecodableRequest) throw invalidRequest(call.request);
      const response = await (handler(call.request, context) as Promise<unknown>);
      callback(null, create(output, response as never));
      this.record(labels, status.OK, stopTimer);
    } catch (error) {
      const serviceError = this.toServiceError(error, labels, context.signal);
      callback(serviceError as ServiceError);
      this.record(labels, serviceError.code ?? status.UNKNOWN, stopTimer);
    } finally {
      done();
    }
  }

  private async serveStream(
    call: ServerWritableStream<unknown, unknown>,
    handler: Handler,
    labels: MethodLabels,
    output: DescMessage,
  ): Promise<void> {
    const { context, done } = callContext(call);
    const { signal } = context;
    const stopTimer = this.metrics.duration.startTimer(labels);
    try {
      if (call.request instanceof UndecodableRequest) throw invalidRequest(call.request);
      // Leaving the loop (break or throw) returns the handler's iterator, so its `finally` blocks run.
      for await (const message of handler(call.request, context) as AsyncIterable<unknown>) {
        if (signal.aborted) break;
        // Back-pressure: wait for the transport to drain instead of buffering the stream in memory; a cancelled
        // call never drains, so the abort ends the wait.
        if (!call.write(create(output, message as never))) await once(call, 'drain', { signal }).catch(() => undefined);
        if (signal.aborted) break;
      }
      if (signal.aborted) {
        this.record(labels, abortCode(signal), stopTimer);
      } else {
        call.end();
        this.record(labels, status.OK, stopTimer);
      }
    } catch (error) {
      const serviceError = this.toServiceError(error, labels, signal);
      // grpc-js turns an 'error' event on a server stream into the call's status and trailers.
      if (!signal.aborted) call.emit('error', serviceError);
      this.record(labels, serviceError.code ?? status.UNKNOWN, stopTimer);
    } finally {
      done();
    }
  }

  private toServiceError(error: unknown, labels: MethodLabels, signal: AbortSignal): Partial<ServiceError> {
    try {
      return this.statusOf(error, labels, signal);
    } catch (conversionError) {
      // A status that cannot be sent must not leave the call unanswered until its deadline.
      this.options.logger?.error({ err: conversionError, cause: error, ...labels }, 'gRPC error could not be turned into a status');
      return { code: status.INTERNAL, details: 'internal error', message: 'internal error' };
    }
  }

  private statusOf(error: unknown, labels: MethodLabels, signal: AbortSignal): Partial<ServiceError> {
    if (error instanceof GrpcStatusError) return error.toServiceError();
    // A handler failing because its call was cancelled or ran out of time is usually that abort; nobody hears it.
    if (signal.aborted) {
      this.options.logger?.debug({ err: error, ...labels }, 'gRPC handler failed after its call ended');
      return { code: abortCode(signal), details: 'call ended before the handler' };
    }
    const mapped = this.mapError(error, labels);
    if (mapped) return mapped.toServiceError();
    this.options.logger?.error({ err: error, ...labels }, 'gRPC handler failed');
    return new GrpcStatusError(status.INTERNAL, 'internal error').toServiceError();
  }

  /** The service's mapping of a domain error; a mapper that throws must not leave the call unanswered. */
  private mapError(error: unknown, labels: MethodLabels): GrpcStatusError | undefined {
    try {
      return this.options.errorMapper?.(error);
    } catch (mapperError) {
      this.options.logger?.error({ err: mapperError, ...labels }, 'gRPC error mapper failed');
      return undefined;
    }
  }

  private record(labels: MethodLabels, code: status, stopTimer: () => number): void {
    const seconds = stopTimer();
    const codeName = status[code] ?? String(code);
    this.metrics.handled.inc({ ...labels, grpc_code: codeName });
    this.options.logger?.debug({ ...labels, grpc_code: codeName, duration_ms: Math.round(seconds * 1000) }, 'gRPC call');
  }
}

function invalidRequest(request: UndecodableRequest): GrpcStatusError {
  const reason = request.cause instanceof Error ? request.cause.message : String(request.cause);
  return new GrpcStatusError(status.INVALID_ARGUMENT, `invalid request message: ${reason}`);
}

/** The status a call ended with when its signal aborted: the reason callContext gave. */
function abortCode(signal: AbortSignal): status {
  return signal.reason instanceof GrpcStatusError ? signal.reason.code : status.CANCELLED;
}

/**
 * The handler's view of a call; its signal aborts on cancellation or when the deadline passes (grpc-js answers
 * DEADLINE_EXCEEDED on its own but does not tell the handler).
 */
function callContext(call: ServerCall): { context: CallContext; done: () => void } {
  const controller = new AbortController();
  const rawDeadline = call.getDeadline();
  const deadline = rawDeadline instanceof Date ? rawDeadline : Number.isFinite(rawDeadline) ? new Date(rawDeadline) : undefined;
  // Whichever comes first ends the call for the handler; the other is then moot (a hung handler keeps nothing alive).
  const end = (reason: GrpcStatusError): void => {
    clearTimeout(timer);
    call.off('cancelled', onCancel);
    controller.abort(reason);
  };
  const onCancel = (): void => end(new GrpcStatusError(status.CANCELLED, 'the caller cancelled the call'));
  call.on('cancelled', onCancel);
  const timer = deadline
    ? setTimeout(() => end(new GrpcStatusError(status.DEADLINE_EXCEEDED, 'deadline exceeded')), Math.max(0, deadline.getTime() - Date.now()))
    : undefined;
  return {
    context: {
      metadata: stringEntries(call.metadata),
      requestId: requestContext.getStore()?.requestId ?? requestIdOf(call),
      deadline,
      signal: controller.signal,
      peer: call.getPeer(),
    },
    done: () => {
      clearTimeout(timer);
      call.off('cancelled', onCancel);
    },
  };
}

/** The caller's `x-request-id`, or a fresh one for calls that arrive without. */
function requestIdOf(call: ServerCall): string {
  const value = call.metadata.get('x-request-id')[0];
  return typeof value === 'string' && value !== '' ? value : randomUUID();
}

interface ServerMetrics {
  handled: Counter<'grpc_service' | 'grpc_method' | 'grpc_code'>;
  duration: Histogram<'grpc_service' | 'grpc_method'>;
}

/** Reuses metrics already in the registry: several servers (one per service) share an app's registry. */
function serverMetrics(registry: Registry): ServerMetrics {
  return {
    handled:
      (registry.getSingleMetric('grpc_server_handled_total') as Counter<'grpc_service' | 'grpc_method' | 'grpc_code'> | undefined) ??
      new Counter({
        name: 'grpc_server_handled_total',
        help: 'gRPC calls completed on the server, by status code',
        labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
        registers: [registry],
      }),
    duration:
      (registry.getSingleMetric('grpc_server_handling_seconds') as Histogram<'grpc_service' | 'grpc_method'> | undefined) ??
      new Histogram({
        name: 'grpc_server_handling_seconds',
        help: 'gRPC call duration on the server',
        labelNames: ['grpc_service', 'grpc_method'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [registry],
      }),
  };
}
