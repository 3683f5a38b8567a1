/** A readiness check: resolves when the dependency is usable, rejects otherwise; should honour `signal`. */
export type HealthCheck = (signal: AbortSignal) => Promise<void>;

export interface HealthCheckOptions {
  timeoutMs?: number;
  /** A failing critical check makes the service unavailable; a failing non-critical one only degrades it. */
  critical?: boolean;
}

export interface HealthCheckResult {
  status: 'ok' | 'error';
  duration_ms: number;
  error?: string;
}

export type ReadinessStatus = 'ok' | 'degraded' | 'unavailable';

export interface ReadinessReport {
  status: ReadinessStatus;
  checks: Record<string, HealthCheckResult>;
}

interface RegisteredCheck {
  check: HealthCheck;
  timeoutMs: number;
  critical: boolean;
}

export class HealthRegistry {
  private readonly checks = new Map<string, RegisteredCheck>();

  add(name: string, check: HealthCheck, { timeoutMs = 2000, critical = true }: HealthCheckOptions = {}): void {
    if (this.checks.has(name)) throw new Error(`health check "${name}" is already registered`);
    this.checks.set(name, { check, timeoutMs, critical });
  }

  /** Liveness says only that the process answers; dependencies belong to readiness. */
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  async ready(): Promise<ReadinessReport> {
    const entries = [...this.checks];
    const results = await Promise.all(entries.map(([, registered]) => runCheck(registered)));
    const checks: Record<string, HealthCheckResult> = {};
    let criticalFailed = false;
    let anyFailed = false;
    results.forEach((result, index) => {
      const [name, registered] = entries[index]!;
      checks[name] = result;
      if (result.status === 'ok') return;
      anyFailed = true;
      criticalFailed ||= registered.critical;
    });
    const status: ReadinessStatus = criticalFailed ? 'unavailable' : anyFailed ? 'degraded' : 'ok';
    return { status, checks };
  }
}

async function runCheck({ check, timeoutMs }: RegisteredCheck): Promise<HealthCheckResult> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  // The check may ignore the abort signal; racing it against the timer keeps ready() from hanging regardless.
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`timed out after ${timeoutMs}ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(() => check(controller.signal)), timedOut]);
    return { status: 'ok', duration_ms: elapsedMs(started) };
  } catch (error) {
    return { status: 'error', duration_ms: elapsedMs(started), error: errorMessage(error) };
  } finally {
    clearTimeout(timer);
  }
}

function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
