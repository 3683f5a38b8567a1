import { readEnvSource } from '@llmops/platform-config';
import { createLogger, createMetricsRegistry, startTracing } from '@llmops/platform-observability';
import { runServices } from '@llmops/platform-runtime';
import { loadPlatformEnv, platformServices } from './platform-services.js';

const version = process.env.SERVICE_VERSION ?? '0.1.0';
const logger = createLogger({ service: 'platform', version, level: process.env.LOG_LEVEL ?? 'info' });
const registry = createMetricsRegistry({ service: 'platform' });
const tracing = startTracing({ service: 'platform', version, endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT });

await runServices({
  name: 'platform',
  loadEnv: () => loadPlatformEnv(readEnvSource()),
  logger,
  registry,
  // SIGHUP: a new LOG_LEVEL applies at once; the rest of a changed environment needs a restart.
  onReload: (env) => {
    logger.level = env.gateway.LOG_LEVEL;
  },
  onStopped: () => tracing.shutdown(),
  services: (env) => platformServices(env, { logger, registry }).services,
});
