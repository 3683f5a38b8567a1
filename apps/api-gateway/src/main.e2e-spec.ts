import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, startAppProcess, type TestDatabase } from '@llmops/platform-testing';

const root = join(import.meta.dirname, '..', '..', '..');
const script = 'dist/apps/api-gateway/main.js';

describe('api-gateway app', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase({ prefix: 'app_gw' });
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('demands real signing keys and a pepper in production, naming each', async () => {
    const app = startAppProcess(script, { NODE_ENV: 'production', DATABASE_URL: database.url }, root);
    expect(await app.exited()).toBe(1);
    for (const variable of ['JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEY', 'API_KEY_PEPPER']) {
      expect(app.output()).toContain(`${variable}: required when NODE_ENV=production`);
    }
  });

  it('runs alone, answers liveness, and stops cleanly on SIGINT', async () => {
    const app = startAppProcess(
      script,
      { DATABASE_URL: database.url, GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '0', ADMIN_PASSWORD: 'an-admin-password', LOG_LEVEL: 'info' },
      root,
    );
    await app.waitForOutput(/"port":(\d+).*api-gateway listening/);
    const port = /"port":(\d+)[^\n]*api-gateway listening/.exec(app.output())![1];
    const live = await fetch(`http://127.0.0.1:${port}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(ready.status).toBe(503);
    const report = (await ready.json()) as { checks: Record<string, { status: string }> };
    expect(report.checks['config-manager']?.status).toBe('error');
    expect(await app.stop('SIGINT')).toBe(0);
  });
});
