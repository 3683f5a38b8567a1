import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK, resources } from '@opentelemetry/sdk-node';

export interface TracingOptions {
  service: string;
  version: string;
  /** OTLP/HTTP collector base URL; defaults to OTEL_EXPORTER_OTLP_ENDPOINT. Unset means tracing is off. */
  endpoint?: string;
}

export interface Tracing {
  shutdown(): Promise<void>;
}

/** Exports spans over OTLP/HTTP when an endpoint is configured; otherwise does nothing and costs nothing. */
export function startTracing(options: TracingOptions): Tracing {
  const endpoint = options.endpoint ?? process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  if (!endpoint?.trim()) return { shutdown: async () => undefined };

  const sdk = new NodeSDK({
    serviceName: options.service,
    resource: resources.resourceFromAttributes({ 'service.version': options.version }),
    traceExporter: new OTLPTraceExporter({ url: `${endpoint.trim().replace(/\/+$/, '')}/v1/traces` }),
    // Metrics go through prom-client and logs through pino; without these the SDK would start OTLP exporters for both.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  let stopped: Promise<void> | undefined;
  return { shutdown: () => (stopped ??= sdk.shutdown()) };
}

/** A tracer for manual spans; a no-op one when tracing is off. */
export function tracer(name: string, version?: string): Tracer {
  return trace.getTracer(name, version);
}
