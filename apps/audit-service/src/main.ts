import { readEnvSource } from '@llmops/platform-config';
import { AUDIT_SERVICE, AuditServiceHost, loadAuditServiceEnv } from '@llmops/audit-service';
import { EventBusHost } from '@llmops/platform-messaging';
import { createLogger, createMetricsRegistry, startTracing } from '@llmops/platform-observability';
import { runServices } from '@llmops/platform-runtime';

const version = process.env.SERVICE_VERSION ?? '0.1.0';
const logger = createLogger({ service: AUDIT_SERVICE, version, level: process.env.LOG_LEVEL ?? 'info' });
const registry = createMetricsRegistry({ service: AUDIT_SERVICE });
const tracing = startTracing({ service: AUDIT_SERVICE, version, endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT });

await runServices({
  name: AUDIT_SERVICE,
  loadEnv: () => loadAuditServiceEnv(readEnvSource()),
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
      name: AUDIT_SERVICE,
    });
    return [bus, new AuditServiceHost(env, { logger, registry, eventBus: () => bus.bus })];
  },
});
