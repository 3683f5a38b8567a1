import { EnvValidationError } from '@llmops/platform-config';
import type { Logger } from '@llmops/platform-observability';
import type { Registry } from 'prom-client';
import type { HostedService } from './hosted-service.js';
import { ServiceManager, type ServiceManagerOptions } from './service-manager.js';

/** The parts of `process` the runner uses; tests pass an EventEmitter with a fake stderr. */
export interface ProcessSignals {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
  readonly stderr: { write(text: string): unknown };
}

export interface RunOptions<E> {
  /** The app being run, for log lines ("platform", "config-manager" …). */
  name: string;
  services: (env: E) => readonly HostedService[];
  /** Reads and validates the environment; throws EnvValidationError when it is invalid. Called again on SIGHUP. */
  loadEnv: () => E;
  logger: Logger;
  registry?: Registry;
  /** Health monitor tuning (intervals, thresholds, backoff). */
  manager?: Omit<ServiceManagerOptions, 'logger' | 'registry'>;
  process?: ProcessSignals;
  exit?: (code: number) => void;
  /** Applies a valid reloaded environment to what the app owns (e.g. the log level), before services reload. */
  onReload?: (env: E) => void | Promise<void>;
  /** Runs after every service stopped on a signal, before exit (e.g. flushing traces). Its failure is logged. */
  onStopped?: () => Promise<void>;
}

export interface RunningServices {
  readonly manager: ServiceManager;
  /** Stops every service in reverse order without exiting (for the launcher and tests). */
  stop(): Promise<void>;
}

/**
 * The bootstrap shared by every app: validate the environment, start the services in dependency order, watch
 * their health, stop gracefully on SIGTERM/SIGINT and reload configuration on SIGHUP.
 */
export async function runServices<E>(options: RunOptions<E>): Promise<RunningServices> {
  const { name, logger } = options;
  const signals = options.process ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));

  let env: E;
  try {
    env = options.loadEnv();
  } catch (error) {
    if (!(error instanceof EnvValidationError)) throw error;
    // Written plainly, not as a JSON log line: this is what an operator reads when the pod will not start.
    signals.stderr.write(`${error.message}\n`);
    exit(1);
    throw error;
  }

  const manager = new ServiceManager({ ...options.manager, logger, registry: options.registry });
  for (const service of options.services(env)) manager.register(service);

  let shuttingDown = false;
  let reloads: Promise<void> = Promise.resolve();

  const terminate = (signal: NodeJS.Signals): void => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal while stopping: forcing exit');
      exit(1);
      return;
    }
    shuttingDown = true;
    logger.info({ signal }, `${name} shutting down`);
    void manager
      .stopAll()
      .then(() => options.onStopped?.())
      .catch((error: unknown) => logger.error({ err: error }, 'after-stop hook failed'))
      .then(() => {
        detach();
        exit(0);
      });
  };

  const reload = async (): Promise<void> => {
    let next: E;
    try {
      next = options.loadEnv();
    } catch (error) {
      logger.error({ err: error }, 'SIGHUP: new configuration is invalid; keeping the current one');
      return;
    }
    await options.onReload?.(next);
    const reloaded = await manager.reloadAll();
    logger.info({ services: reloaded }, `SIGHUP: configuration reloaded by ${reloaded.length} service(s)`);
  };

  const onSigterm = (): void => terminate('SIGTERM');
  const onSigint = (): void => terminate('SIGINT');
  const onSighup = (): void => {
    if (shuttingDown) return;
    // One reload at a time, in arrival order.
    reloads = reloads.then(reload);
  };
  const detach = (): void => {
    signals.off('SIGTERM', onSigterm);
    signals.off('SIGINT', onSigint);
    signals.off('SIGHUP', onSighup);
  };
  // Listening before start-up, so a SIGTERM during a slow start still stops what has started.
  signals.on('SIGTERM', onSigterm);
  signals.on('SIGINT', onSigint);
  signals.on('SIGHUP', onSighup);

  const stop = async (): Promise<void> => {
    shuttingDown = true;
    await manager.stopAll();
    detach();
  };

  try {
    await manager.startAll();
  } catch (error) {
    if (shuttingDown) return { manager, stop };
    logger.fatal({ err: error }, `${name} failed to start`);
    detach();
    exit(1);
    throw error;
  }
  manager.startHealthMonitor();
  logger.info({ services: Object.keys(manager.states()) }, `${name} running`);
  return { manager, stop };
}
