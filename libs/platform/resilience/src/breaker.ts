import CircuitBreaker from 'opossum';
import { register as defaultRegistry, Counter, Gauge, type Registry } from 'prom-client';

export interface BreakerOptions {
  name: string;
  /**
   * Per-call timeout; the call's AbortSignal is aborted when it passes. Default 5000 ms. `false` when the action
   * enforces its own per-call deadline (gRPC), which a breaker-wide timeout would cut short.
   */
  timeoutMs?: number | false;
  /** Failure percentage over the rolling window that opens the breaker. Default 50. */
  errorThresholdPercentage?: number;
  /** Calls needed in the window before the breaker may open, so one failure never opens it. Default 5. */
  volumeThreshold?: number;
  /** How long the breaker stays open before letting one trial call through. Default 30000 ms. */
  resetTimeoutMs?: number;
  /** Length of the rolling statistics window. Default 10000 ms. */
  rollingCountTimeoutMs?: number;
  /**
   * Errors for which this returns false (not found, validation…) pass through without counting as failures.
   * Timeouts always count.
   */
  isFailure?: (error: unknown) => boolean;
  /** Called on every transition, e.g. to log it. */
  onStateChange?: (state: BreakerState) => void;
  /** Where the metrics go; prom-client's default registry otherwise. */
  registry?: Registry;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface Breaker<A extends unknown[], R> {
  fire(...args: A): Promise<R>;
  readonly state: BreakerState;
  readonly name: string;
  shutdown(): void;
}

export class BreakerOpenError extends Error {
  constructor(readonly breaker: string) {
    super(`circuit breaker ${breaker} is open; failing fast`);
    this.name = 'BreakerOpenError';
  }
}

export class BreakerTimeoutError extends Error {
  constructor(
    readonly breaker: string,
    readonly timeoutMs: number,
  ) {
    super(`${breaker} did not answer within ${timeoutMs} ms`);
    this.name = 'BreakerTimeoutError';
  }
}

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * An opossum circuit breaker with production defaults. Timeouts are ours, per call: opossum 9's `abortController`
 * option is one controller per breaker, aborted on any timeout and renewed only on half-open/close, so one slow
 * call would abort every call in flight and every later one.
 */
export function createBreaker<A extends unknown[], R>(
  action: (signal: AbortSignal, ...args: A) => Promise<R>,
  options: BreakerOptions,
): Breaker<A, R> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const metrics = breakerMetrics(options.registry ?? defaultRegistry);
  const labels = { breaker: options.name };

  const timed = (...args: A): Promise<R> => {
    const controller = new AbortController();
    if (timeoutMs === false) return invoke(action, controller.signal, args);
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new BreakerTimeoutError(options.name, timeoutMs);
        metrics.events.inc({ ...labels, event: 'timeout' });
        controller.abort(error);
        reject(error);
      }, timeoutMs);
      invoke(action, controller.signal, args)
        .then(resolve, reject)
        .finally(() => clearTimeout(timer));
    });
  };

  const circuit = new CircuitBreaker<A, R>(timed, {
    name: options.name,
    timeout: false,
    errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
    volumeThreshold: options.volumeThreshold ?? 5,
    resetTimeout: options.resetTimeoutMs ?? 30_000,
    rollingCountTimeout: options.rollingCountTimeoutMs ?? 10_000,
    // opossum's errorFilter is inverted: true means "not a failure" (it then emits 'success').
    errorFilter: (error: unknown) =>
      !(error instanceof BreakerTimeoutError) && options.isFailure !== undefined && !options.isFailure(error),
  });

  const stateOf = (): BreakerState => (circuit.opened ? 'open' : circuit.halfOpen ? 'half-open' : 'closed');
  metrics.state.set(labels, STATE_VALUE.closed);
  // The typings overload on() per event name; none of these listeners needs the event's arguments.
  const events = circuit as unknown as NodeJS.EventEmitter;
  for (const event of ['success', 'failure', 'reject'] as const) {
    events.on(event, () => metrics.events.inc({ ...labels, event }));
  }
  for (const event of ['open', 'close', 'halfOpen'] as const) {
    events.on(event, () => {
      metrics.events.inc({ ...labels, event });
      const state = stateOf();
      metrics.state.set(labels, STATE_VALUE[state]);
      options.onStateChange?.(state);
    });
  }

  return {
    name: options.name,
    get state() {
      return stateOf();
    },
    fire: async (...args: A) => {
      try {
        return await circuit.fire(...args);
      } catch (error) {
        if (isOpossumOpenError(error)) throw new BreakerOpenError(options.name);
        throw error;
      }
    },
    shutdown: () => circuit.shutdown(),
  };
}

/** Runs the action so that a synchronous throw becomes a rejection like any other failure. */
async function invoke<A extends unknown[], R>(
  action: (signal: AbortSignal, ...args: A) => Promise<R>,
  signal: AbortSignal,
  args: A,
): Promise<R> {
  return action(signal, ...args);
}

function isOpossumOpenError(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === 'EOPENBREAKER';
}

interface BreakerMetrics {
  state: Gauge<'breaker'>;
  events: Counter<'breaker' | 'event'>;
}

/** Reuses the metrics when the registry already has them: services restart in-process under the launcher. */
function breakerMetrics(registry: Registry): BreakerMetrics {
  const state =
    (registry.getSingleMetric('circuit_breaker_state') as Gauge<'breaker'> | undefined) ??
    new Gauge({
      name: 'circuit_breaker_state',
      help: 'Circuit breaker state (0 closed, 1 half-open, 2 open)',
      labelNames: ['breaker'],
      registers: [registry],
    });
  const events =
    (registry.getSingleMetric('circuit_breaker_events_total') as Counter<'breaker' | 'event'> | undefined) ??
    new Counter({
      name: 'circuit_breaker_events_total',
      help: 'Circuit breaker events by kind',
      labelNames: ['breaker', 'event'],
      registers: [registry],
    });
  return { state, events };
}
