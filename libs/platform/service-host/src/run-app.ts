import { readEnvSource, type EnvSource } from '@llmops/platform-config';
import { EventBusHost, type EventBus } from '@llmops/platform-messaging';
import { createLogger, createMetricsRegistry, startTracing, type Logger } from '@llmops/platform-observability';
import { runServices, type HostedService, type RunningServices } from '@llmops/platform-runtime';
import type { Registry } from 'prom-client';

/** The environment every app shares: log level and where the event bus is. */
export interface AppInfrastructureEnv {
  LOG_LEVEL: string;
  NATS_URL?: string;
  NATS_STREAM: string;
  NATS_SUBJECT_ROOT: string;
}

export interface AppInfrastructure {
  logger: Logger;
  registry: Registry;
  /** The shared event bus (JetStream with NATS_URL, in-process otherwise), started before the app's services. */
  eventBus: () => EventBus;
}

export interface RunAppOptions<E> {
  name: string;
  /** Validates the environment (process env overlaid with ENV_FILE); throws EnvValidationError naming bad variables. */
  loadEnv: (source: EnvSource) => E;
  /** Where the shared settings sit in this app's environment (the launcher nests one environment per service). */
  infrastructureOf: (env: E) => AppInfrastructureEnv;
  services: (env: E, infra: AppInfrastructure) => HostedService[];
}

/** The event bus first, then the app's services: what `runApp` starts, and what tests start the same way. */
export function composeApp<E>(options: RunAppOptions<E>, env: E, logger: Logger, registry: Registry): HostedService[] {
  const infrastructure = options.infrastructureOf(env);
  const bus = new EventBusHost({
    natsUrl: infrastructure.NATS_URL,
    stream: infrastructure.NATS_STREAM,
    subjectRoot: infrastructure.NATS_SUBJECT_ROOT,
    logger,
    name: options.name,
  });
  return [bus, ...options.services(env, { logger, registry, eventBus: () => bus.bus })];
}

/**
 * The bootstrap of every app: JSON logs, metrics, tracing, the event bus as the first hosted service, then the
 * app's services under the service manager (signals, health recovery; SIGHUP re-reads ENV_FILE and applies the log
 * level at once).
 */
export function runApp<E>(options: RunAppOptions<E>): Promise<RunningServices> {
  const version = process.env.SERVICE_VERSION ?? '0.1.0';
  const logger = createLogger({ service: options.name, version, level: process.env.LOG_LEVEL ?? 'info' });
  const registry = createMetricsRegistry({ service: options.name });
  const tracing = startTracing({ service: options.name, version, endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT });
  return runServices({
    name: options.name,
    loadEnv: () => options.loadEnv(readEnvSource()),
    logger,
    registry,
    onReload: (env) => {
      logger.level = options.infrastructureOf(env).LOG_LEVEL;
    },
    onStopped: () => tracing.shutdown(),
    services: (env) => {
      logger.level = options.infrastructureOf(env).LOG_LEVEL;
      return composeApp(options, env, logger, registry);
    },
  });
}
