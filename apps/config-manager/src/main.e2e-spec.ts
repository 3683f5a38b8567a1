import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, startAppProcess, TEST_NATS_URL, uniqueName, type TestDatabase } from '@llmops/platform-testing';

const root = join(import.meta.dirname, '..', '..', '..');
const script = 'dist/apps/config-manager/main.js';

describe('config-manager app', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase({ prefix: 'app_cm' });
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('refuses to start on an invalid environment and names each bad variable', async () => {
    const app = startAppProcess(script, { CONFIG_MANAGER_GRPC_PORT: 'fifty', DATABASE_URL: 'mysql://db' }, root);
    expect(await app.exited()).toBe(1);
    expect(app.output()).toContain('Invalid environment for config-manager');
    expect(app.output()).toMatch(/CONFIG_MANAGER_GRPC_PORT: .*\(got "fifty"\)/);
    expect(app.output()).toMatch(/DATABASE_URL: must be a URL with scheme postgres/);
  });

  it('runs alone on PostgreSQL and NATS, then stops cleanly on SIGTERM', async () => {
    const subjects = uniqueName('app_cm');
    const app = startAppProcess(
      script,
      {
        DATABASE_URL: database.url,
        NATS_URL: TEST_NATS_URL,
        NATS_STREAM: subjects.toUpperCase(),
        NATS_SUBJECT_ROOT: subjects,
        CONFIG_MANAGER_GRPC_PORT: '0',
        CONFIG_MANAGER_OPS_PORT: '0',
        LOG_LEVEL: 'info',
      },
      root,
    );
    await app.waitForOutput(/config-manager started/);
    expect(await app.stop('SIGTERM')).toBe(0);
    expect(app.output()).toMatch(/shutting down/);
  });
});
