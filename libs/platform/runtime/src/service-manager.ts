import { setTimeout as delay } from 'node:timers/promises';
import { getOrCreateCounter, getOrCreateGauge, type Logger } from '@llmops/platform-observability';
import type { Counter, Gauge, Registry } from 'prom-client';
import type { HealthReport, HostedService, ServiceState } from './hosted-service.js';
import { resolveStartOrder } from './start-order.js';

export interface ServiceManagerOptions {
  logger: Logger;
  /** Where service_status and service_restarts_total are registered; no metrics without one. */
  registry?: Registry;
  healthIntervalMs?: number;
  /** Consecutive failed health checks before a service is restarted. */
  failureThreshold?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Restarts allowed without a healthy check in between before the service is marked failed for good. */
  maxRecoveryAttempts?: number;
  stopTimeoutMs?: number;
  healthTimeoutMs?: number;
  /** Waits out the restart backoff; injectable for tests. The signal fires when shutdown begins. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export class ServiceStartError extends Error {
  constructor(
    readonly service: string,
    cause: unknown,
  ) {
    super(`service "${service}" failed to start: ${errorMessage(cause)}`, { cause });
    this.name = 'ServiceStartError';
  }
}

interface ManagedService {
  readonly service: HostedService;
  readonly log: Logger;
  state: ServiceState;
  consecutiveFailures: number;
  /** Restarts since the last healthy check; drives the backoff exponent. */
  recoveryAttempts: number;
}

const statusValue: Record<ServiceState, number> = {
  running: 1,
  degraded: 0.5,
  initializing: 0,
  failed: 0,
  shutting_down: 0,
  stopped: 0,
};

const isUp = (entry: ManagedService): boolean => entry.state === 'running' || entry.state === 'degraded';

/** Starts services in dependency order, stops them in reverse, and restarts unhealthy ones with backoff (seed 004). */
export class ServiceManager {
  private readonly logger: Logger;
  private readonly healthIntervalMs: number;
  private readonly failureThreshold: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly maxRecoveryAttempts: number;
  private readonly stopTimeoutMs: number;
  private readonly healthTimeoutMs: number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly statusGauge: Gauge<'service'> | undefined;
  private readonly restartCounter: Counter<'service'> | undefined;

  private readonly services = new Map<string, ManagedService>();
  private startOrder: ManagedService[] = [];
  private startup: Promise<void> | undefined;
  private shutdown: Promise<void> | undefined;
  /** Aborted when shutdown begins: cuts a restart backoff short and stops start-up between services. */
  private readonly shutdownController = new AbortController();
  private monitorTimer: NodeJS.Timeout | undefined;
  private healthCycle: Promise<void> | undefined;

  constructor(options: ServiceManagerOptions) {
    this.logger = options.logger;
    this.healthIntervalMs = options.healthIntervalMs ?? 30_000;
    this.failureThreshold = options.failureThreshold ?? 3;
    this.backoffBaseMs = options.backoffBaseMs ?? 1_000;
    this.backoffMaxMs = options.backoffMaxMs ?? 60_000;
    this.maxRecoveryAttempts = options.maxRecoveryAttempts ?? 3;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.healthTimeoutMs = options.healthTimeoutMs ?? 5_000;
    this.sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
    if (options.registry) {
      this.statusGauge = getOrCreateGauge(options.registry, {
        name: 'service_status',
        help: 'Service status (1 = running, 0.5 = degraded, 0 = otherwise)',
        labelNames: ['service'],
      });
      this.restartCounter = getOrCreateCounter(options.registry, {
        name: 'service_restarts_total',
        help: 'Restarts of unhealthy services by the health monitor',
        labelNames: ['service'],
      });
    }
  }

  private get shuttingDown(): boolean {
    return this.shutdownController.signal.aborted;
  }

  register(service: HostedService): void {
    if (this.startup) throw new Error(`cannot register "${service.name}": services are already started`);
    if (this.services.has(service.name)) throw new Error(`service "${service.name}" is registered twice`);
    const entry: ManagedService = {
      service,
      log: this.logger.child({ component: service.name }),
      state: 'stopped',
      consecutiveFailures: 0,
      recoveryAttempts: 0,
    };
    this.services.set(service.name, entry);
    this.setState(entry, 'stopped');
  }

  states(): Record<string, ServiceState> {
    return Object.fromEntries([...this.services].map(([name, entry]) => [name, entry.state]));
  }

  /** Starts every service in dependency order; on a failure stops those already started and rejects. */
  startAll(): Promise<void> {
    this.startup ??= this.startInOrder();
    return this.startup;
  }

  /** Stops every running service in reverse start order. Never rejects: a failing stop is logged and skipped. */
  stopAll(): Promise<void> {
    this.shutdown ??= this.stopEverything();
    return this.shutdown;
  }

  /** Calls `reload()`, in start order, on the running services that support it; returns their names. */
  async reloadAll(): Promise<string[]> {
    const reloaded: string[] = [];
    for (const entry of this.startOrder) {
      const { service } = entry;
      if (!service.reload || !isUp(entry)) continue;
      try {
        await service.reload();
        reloaded.push(service.name);
      } catch (error) {
        entry.log.error({ err: error }, 'reload failed; the service keeps its previous configuration');
      }
    }
    return reloaded;
  }

  startHealthMonitor(): void {
    if (this.monitorTimer || this.shuttingDown) return;
    this.monitorTimer = setInterval(() => void this.checkHealthOnce(), this.healthIntervalMs);
  }

  stopHealthMonitor(): void {
    clearInterval(this.monitorTimer);
    this.monitorTimer = undefined;
  }

  /** One health round over the running services, restarting those past the failure threshold. */
  checkHealthOnce(): Promise<void> {
    // One round at a time: a tick that lands while a restart is backing off joins that round instead of racing it.
    this.healthCycle ??= this.runHealthCycle().finally(() => {
      this.healthCycle = undefined;
    });
    return this.healthCycle;
  }

  private async startInOrder(): Promise<void> {
    const order = resolveStartOrder([...this.services.values()].map((entry) => entry.service));
    this.startOrder = order.map((service) => this.services.get(service.name)!);
    const started: ManagedService[] = [];
    for (const entry of this.startOrder) {
      if (this.shuttingDown) {
        await this.stopInReverse(started);
        throw new Error('start-up aborted: shutdown requested');
      }
      try {
        await this.startService(entry);
        started.push(entry);
      } catch (error) {
        entry.log.error({ err: error }, 'service failed to start; stopping the services already started');
        await this.stopInReverse(started);
        throw new ServiceStartError(entry.service.name, error);
      }
    }
    this.logger.info({ order: this.startOrder.map((entry) => entry.service.name) }, 'all services started');
  }

  private async stopEverything(): Promise<void> {
    this.shutdownController.abort();
    this.stopHealthMonitor();
    // Let an in-flight start-up or health round settle first, so nothing starts behind our back while stopping.
    await Promise.allSettled([this.startup, this.healthCycle]);
    await this.stopInReverse(this.startOrder.filter(isUp));
    this.logger.info('all services stopped');
  }

  private async stopInReverse(entries: readonly ManagedService[]): Promise<void> {
    for (const entry of [...entries].reverse()) await this.stopService(entry);
  }

  private async startService(entry: ManagedService): Promise<void> {
    this.setState(entry, 'initializing');
    const started = performance.now();
    try {
      await entry.service.start();
    } catch (error) {
      this.setState(entry, 'failed');
      throw error;
    }
    entry.consecutiveFailures = 0;
    this.setState(entry, 'running');
    entry.log.info({ duration_ms: Math.round(performance.now() - started) }, 'service started');
  }

  private async stopService(entry: ManagedService): Promise<void> {
    this.setState(entry, 'shutting_down');
    try {
      await withTimeout(() => entry.service.stop(), this.stopTimeoutMs, `stop timed out after ${this.stopTimeoutMs}ms`);
      this.setState(entry, 'stopped');
      entry.log.info('service stopped');
    } catch (error) {
      this.setState(entry, 'failed');
      entry.log.error({ err: error }, 'service failed to stop');
    }
  }

  private async runHealthCycle(): Promise<void> {
    if (this.shuttingDown) return;
    await Promise.all(this.startOrder.filter(isUp).map((entry) => this.checkService(entry)));
  }

  private async checkService(entry: ManagedService): Promise<void> {
    const report = await this.probe(entry);
    if (this.shuttingDown || !isUp(entry)) return;
    if (report.healthy) {
      if (entry.state === 'degraded') entry.log.info('service healthy again');
      entry.consecutiveFailures = 0;
      entry.recoveryAttempts = 0;
      this.setState(entry, 'running');
      return;
    }
    entry.consecutiveFailures += 1;
    entry.log.warn({ failures: entry.consecutiveFailures, detail: report.detail }, 'health check failed');
    if (entry.consecutiveFailures < this.failureThreshold) this.setState(entry, 'degraded');
    else await this.recover(entry);
  }

  private async probe(entry: ManagedService): Promise<HealthReport> {
    try {
      const timeout = `health check timed out after ${this.healthTimeoutMs}ms`;
      return await withTimeout(() => entry.service.health(), this.healthTimeoutMs, timeout);
    } catch (error) {
      return { healthy: false, detail: errorMessage(error) };
    }
  }

  /** Stop, wait min(base * 2^attempt, max), start; until a start succeeds or the attempts run out. */
  private async recover(entry: ManagedService): Promise<void> {
    while (entry.recoveryAttempts < this.maxRecoveryAttempts) {
      const delayMs = Math.min(this.backoffBaseMs * 2 ** entry.recoveryAttempts, this.backoffMaxMs);
      entry.recoveryAttempts += 1;
      entry.log.warn({ attempt: entry.recoveryAttempts, delay_ms: delayMs }, 'restarting unhealthy service');
      this.restartCounter?.inc({ service: entry.service.name });
      if (isUp(entry)) await this.stopService(entry);
      if (!(await this.backoff(delayMs))) return;
      try {
        await this.startService(entry);
        return;
      } catch (error) {
        entry.log.error({ err: error, attempt: entry.recoveryAttempts }, 'restart failed');
      }
    }
    if (isUp(entry)) await this.stopService(entry);
    this.setState(entry, 'failed');
    entry.log.error({ attempts: entry.recoveryAttempts }, 'service marked failed: restart attempts exhausted');
  }

  /** Resolves true when the delay has passed, false when shutdown began first. */
  private async backoff(ms: number): Promise<boolean> {
    const { signal } = this.shutdownController;
    if (signal.aborted) return false;
    const settled = new AbortController();
    const aborted = new Promise<boolean>((resolve) => {
      signal.addEventListener('abort', () => resolve(false), { once: true, signal: settled.signal });
    });
    const waited = this.sleep(ms, signal).then(
      () => !signal.aborted,
      () => false,
    );
    try {
      return await Promise.race([waited, aborted]);
    } finally {
      settled.abort();
    }
  }

  private setState(entry: ManagedService, state: ServiceState): void {
    entry.state = state;
    this.statusGauge?.set({ service: entry.service.name }, statusValue[state]);
  }
}

async function withTimeout<T>(action: () => Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    // Promise.resolve().then turns a synchronous throw from `action` into a rejection.
    return await Promise.race([Promise.resolve().then(action), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
