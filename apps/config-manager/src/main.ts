import { readEnvSource } from '@llmops/platform-config';
import { CONFIG_MANAGER, ConfigManagerHost, loadConfigManagerEnv } from '@llmops/config-manager';
import { EventBusHost } from '@llmops/platform-messaging';
import { createLogger, createMetricsRegistry, startTracing } from '@llmops/platform-observability';
import { runServices } from '@llmops/platform-runtime';

const version = process.env.SERVICE_VERSION ?? '0.1.0';
const logger = createLogger({ service: CONFIG_MANAGER, version, level: process.env.LOG_LEVEL ?? 'info' });
const registry = createMetricsRegistry({ service: CONFIG_MANAGER });
const tracing = startTracing({ service: CONFIG_MANAGER, version, endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT });

await runServices({
  name: CONFIG_MANAGER,
  loadEnv: () => loadConfigManagerEnv(readEnvSource()),
  logger,
  registry,
  // SIGHUP: a new LOG_LEVEL applies at once; the rest of a changed environment needs a restart.
  onReload: (env) => {
    logger.level = env.LOG_LEVEL;
  },
  onStopped: () => tracing.shutdown(),
  services: (env) => {
    const bus = new EventBusHost({
      natsUrl: env.NATS_URL,
      stream: env.NATS_STREAM,
      subjectRoot: env.NATS_SUBJECT_ROOT,
      logger,
      name: CONFIG_MANAGER,
    });
    return [bus, new ConfigManagerHost(env, { logger, registry, eventBus: () => bus.bus })];
  },
});
