import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { HealthRegistry } from './health-registry.js';

const never = (): Promise<void> => new Promise<void>(() => undefined);

describe(HealthRegistry.name, () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('is live without running any check', () => {
    const health = new HealthRegistry();
    health.add('database', never);
    expect(health.live()).toEqual({ status: 'ok' });
  });

  it('is ready when every check passes', async () => {
    const health = new HealthRegistry();
    health.add('database', async () => undefined);
    health.add('cache', async () => undefined, { critical: false });
    const report = await health.ready();
    expect(report.status).toBe('ok');
    expect(report.checks['database']).toMatchObject({ status: 'ok' });
    expect(typeof report.checks['cache']?.duration_ms).toBe('number');
  });

  it('reports a hanging check as timed out and aborts its signal, without hanging ready()', async () => {
    jest.useFakeTimers();
    const health = new HealthRegistry();
    let seen: AbortSignal | undefined;
    health.add('database', (signal) => {
      seen = signal;
      return never();
    });
    health.add('nats', never, { timeoutMs: 500 });
    const pending = health.ready();
    await jest.advanceTimersByTimeAsync(2000);
    const report = await pending;
    expect(report.status).toBe('unavailable');
    expect(report.checks['database']).toMatchObject({ status: 'error', error: 'timed out after 2000ms' });
    expect(report.checks['nats']).toMatchObject({ status: 'error', error: 'timed out after 500ms' });
    expect(seen?.aborted).toBe(true);
  });

  it('is degraded when only non-critical checks fail', async () => {
    const health = new HealthRegistry();
    health.add('database', async () => undefined);
    health.add('qdrant', async () => Promise.reject(new Error('connection refused')), { critical: false });
    const report = await health.ready();
    expect(report.status).toBe('degraded');
    expect(report.checks['qdrant']).toMatchObject({ status: 'error', error: 'connection refused' });
  });

  it('is unavailable when a critical check fails, even if a non-critical one fails too', async () => {
    const health = new HealthRegistry();
    health.add('cache', async () => Promise.reject(new Error('down')), { critical: false });
    health.add('database', () => {
      throw new Error('no connection');
    });
    const report = await health.ready();
    expect(report.status).toBe('unavailable');
    expect(report.checks['database']).toMatchObject({ status: 'error', error: 'no connection' });
  });

  it('rejects a duplicate check name', () => {
    const health = new HealthRegistry();
    health.add('database', async () => undefined);
    expect(() => health.add('database', async () => undefined)).toThrow('"database" is already registered');
  });
});
