export { HealthRegistry, type HealthCheck, type HealthCheckOptions, type HealthCheckResult, type ReadinessReport, type ReadinessStatus } from './health-registry.js';
export { createLogger, REDACTED, redactPaths, type Logger, type LoggerOptions } from './logger.js';
export {
  createMetricsRegistry,
  getOrCreateCounter,
  getOrCreateGauge,
  getOrCreateHistogram,
  type MetricConfig,
  type MetricsRegistryOptions,
} from './metrics.js';
export { startOpsServer, type OpsServer, type OpsServerOptions } from './ops-server.js';
export { currentRequestContext, requestContext, type RequestContext } from './request-context.js';
export { startTracing, tracer, type Tracing, type TracingOptions } from './tracing.js';
