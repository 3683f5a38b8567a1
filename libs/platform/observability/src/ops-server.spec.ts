import { afterEach, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { HealthRegistry } from './health-registry.js';
import { createLogger } from './logger.js';
import { getOrCreateCounter } from './metrics.js';
import { startOpsServer, type OpsServer } from './ops-server.js';

const logger = createLogger({ service: 'test', version: '0.0.0', level: 'silent', pretty: false });

describe(startOpsServer.name, () => {
  let server: OpsServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(health: HealthRegistry, registry = new Registry()): Promise<string> {
    server = await startOpsServer({ port: 0, host: '127.0.0.1', health, registry, logger });
    return `http://127.0.0.1:${server.port}`;
  }

  it('serves liveness and readiness', async () => {
    const health = new HealthRegistry();
    health.add('database', async () => undefined);
    const base = await start(health);

    const live = await fetch(`${base}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });

    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.headers.get('content-type')).toContain('application/json');
    expect(await ready.json()).toMatchObject({ status: 'ok', checks: { database: { status: 'ok' } } });
  });

  it('answers 503 with the report when a critical check fails, 200 when only degraded', async () => {
    const health = new HealthRegistry();
    let databaseUp = false;
    health.add('database', async () => {
      if (!databaseUp) throw new Error('connection refused');
    });
    health.add('cache', async () => Promise.reject(new Error('cache down')), { critical: false });
    const base = await start(health);

    const unavailable = await fetch(`${base}/health/ready`);
    expect(unavailable.status).toBe(503);
    expect(await unavailable.json()).toMatchObject({
      status: 'unavailable',
      checks: { database: { status: 'error', error: 'connection refused' } },
    });

    databaseUp = true;
    const degraded = await fetch(`${base}/health/ready`);
    expect(degraded.status).toBe(200);
    expect(await degraded.json()).toMatchObject({ status: 'degraded' });
  });

  it('serves Prometheus metrics with the registry content type', async () => {
    const registry = new Registry();
    getOrCreateCounter(registry, { name: 'grpc_requests_total', help: 'requests' }).inc(3);
    const base = await start(new HealthRegistry(), registry);

    const response = await fetch(`${base}/metrics?debug=1`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(registry.contentType);
    expect(await response.text()).toContain('grpc_requests_total 3');
  });

  it('answers 404 JSON for unknown paths and 405 for other methods', async () => {
    const base = await start(new HealthRegistry());
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });

    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
  });

  it('closes even with a keep-alive connection open, and close() is idempotent', async () => {
    const base = await start(new HealthRegistry());
    await (await fetch(`${base}/health/live`, { headers: { connection: 'keep-alive' } })).text();
    await Promise.all([server!.close(), server!.close()]);
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
  });
});
