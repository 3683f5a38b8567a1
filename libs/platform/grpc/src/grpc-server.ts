import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { create, type DescService } from '@bufbuild/protobuf';
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
import { methodDefinition } from './codec.js';
import { GrpcStatusError, stringEntries } from './grpc-errors.js';
import type { GrpcLogger } from './grpc-logger.js';
import { addReflection } from './reflection.js';
import type { CallContext, ServiceImplementation } from './service-types.js';

export interface GrpcServerOptions {
  host?: string;
  /** 0 binds an ephemeral port; `start()` returns the bound one. */
  port: number;
  logger?: GrpcLogger;
  /** Turns a service's domain errors into statuses; unmapped errors become INTERNAL "internal error". */
  errorMapper?: (error: unknown) => GrpcStatusError | undefined;
  registry?: Registry;
}

type Handler = (request: unknown, context: CallContext) => Promise<unknown> | AsyncIterable<unknown>;

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
      const handler = (implementation as unknown as Record<string, Handler>)[method.localName];
      if (typeof handler !== 'function') throw new Error(`${service.typeName}.${method.name} has no handler`);
      definition[method.localName] = methodDefinition(service, method);
      // grpc_* label names (as in go-grpc-prometheus) leave `service` to the registry's default label, the app name.
      const labels = { grpc_service: service.typeName, grpc_method: method.name };
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
    labels: { grpc_service: string; grpc_method: string },
    output: Parameters<typeof create>[0],
  ): Promise<void> {
    const { context, done } = callContext(call);
    const stopTimer = this.metrics.duration.startTimer(labels);
    try {
      const response = await (handler(call.request, context) as Promise<unknown>);
      callback(null, create(output, response as never));
      this.record(labels, status.OK, stopTimer);
    } catch (error) {
      const serviceError = this.toServiceError(error, labels);
      callback(serviceError as ServiceError);
      this.record(labels, serviceError.code ?? status.UNKNOWN, stopTimer);
    } finally {
      done();
    }
  }

  private async serveStream(
    call: ServerWritableStream<unknown, unknown>,
    handler: Handler,
    labels: { grpc_service: string; grpc_method: string },
    output: Parameters<typeof create>[0],
  ): Promise<void> {
    const { context, done } = callContext(call);
    const stopTimer = this.metrics.duration.startTimer(labels);
    try {
      for await (const message of handler(call.request, context) as AsyncIterable<unknown>) {
        if (context.signal.aborted) break;
        // Back-pressure: wait for the transport to drain instead of buffering the whole stream in memory.
        if (!call.write(create(output, message as never))) await once(call, 'drain');
      }
      if (context.signal.aborted) {
        this.record(labels, status.CANCELLED, stopTimer);
      } else {
        call.end();
        this.record(labels, status.OK, stopTimer);
      }
    } catch (error) {
      const serviceError = this.toServiceError(error, labels);
      if (!context.signal.aborted) call.emit('error', serviceError);
      this.record(labels, serviceError.code ?? status.UNKNOWN, stopTimer);
    } finally {
      done();
    }
  }

  private toServiceError(error: unknown, labels: { grpc_service: string; grpc_method: string }): Partial<ServiceError> {
    if (error instanceof GrpcStatusError) return error.toServiceError();
    const mapped = this.options.errorMapper?.(error);
    if (mapped) return mapped.toServiceError();
    this.options.logger?.error({ err: error, ...labels }, 'gRPC handler failed');
    return new GrpcStatusError(status.INTERNAL, 'internal error').toServiceError();
  }

  private record(labels: { grpc_service: string; grpc_method: string }, code: status, stopTimer: () => number): void {
    const duration = stopTimer();
    this.metrics.handled.inc({ ...labels, grpc_code: status[code] ?? String(code) });
    this.options.logger?.debug({ ...labels, grpc_code: status[code], duration_ms: Math.round(duration * 1000) }, 'gRPC call');
  }
}

/** The handler's view of a call; its signal aborts on cancellation or when the deadline passes. */
function callContext(call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>): {
  context: CallContext;
  done: () => void;
} {
  const controller = new AbortController();
  const metadata = stringEntries(call.metadata);
  const rawDeadline = call.getDeadline();
  const deadline = rawDeadline instanceof Date ? rawDeadline : Number.isFinite(rawDeadline) ? new Date(rawDeadline) : undefined;
  const onCancel = (): void => controller.abort(new GrpcStatusError(status.CANCELLED, 'the caller cancelled the call'));
  call.on('cancelled', onCancel);
  const timer = deadline
    ? setTimeout(
        () => controller.abort(new GrpcStatusError(status.DEADLINE_EXCEEDED, 'deadline exceeded')),
        Math.max(0, deadline.getTime() - Date.now()),
      )
    : undefined;
  return {
    context: {
      metadata,
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
function requestIdOf(call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>): string {
  const value = call.metadata.get('x-request-id')[0];
  return typeof value === 'string' && value !== '' ? value : randomUUID();
}

interface ServerMetrics {
  handled: Counter<'grpc_service' | 'grpc_method' | 'grpc_code'>;
  duration: Histogram<'grpc_service' | 'grpc_method'>;
}

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
