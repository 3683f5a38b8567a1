import { readEnvSource } from '@llmops/platform-config';
import { API_GATEWAY, ApiGatewayHost, loadApiGatewayEnv } from '@llmops/api-gateway';
import { createLogger, createMetricsRegistry, startTracing } from '@llmops/platform-observability';
import { runServices } from '@llmops/platform-runtime';

const version = process.env.SERVICE_VERSION ?? '0.1.0';
const logger = createLogger({ service: API_GATEWAY, version, level: process.env.LOG_LEVEL ?? 'info' });
const registry = createMetricsRegistry({ service: API_GATEWAY });
const tracing = startTracing({ service: API_GATEWAY, version, endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT });

await runServices({
  name: API_GATEWAY,
  loadEnv: () => loadApiGatewayEnv(readEnvSource()),
  logger,
  registry,
  // SIGHUP: a new LOG_LEVEL applies at once; the rest of a changed environment needs a restart.
  onReload: (env) => {
    logger.level = env.LOG_LEVEL;
  },
  onStopped: () => tracing.shutdown(),
  services: (env) => [new ApiGatewayHost(env, { logger, registry })],
});
