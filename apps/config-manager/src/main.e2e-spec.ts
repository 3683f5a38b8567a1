import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, deleteJetStreamStreams, startAppProcess, TEST_NATS_URL, uniqueName, type TestDatabase } from '@llmops/platform-testing';

const root = join(import.meta.dirname, '..', '..', '..');
const script = 'dist/apps/config-manager/main.js';

describe('config-manager app', () => {
  let database: TestDatabase;
  const streams: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase({ prefix: 'app_cm' });
  });

  afterAll(async () => {
    await database?.drop();
    await deleteJetStreamStreams(streams);
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
    streams.push(subjects.toUpperCase());
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
    try {
      await app.waitForOutput(/config-manager started/);
      expect(await app.stop('SIGTERM')).toBe(0);
      expect(app.output()).toMatch(/shutting down/);
    } finally {
      // Still running only if an expectation failed; afterAll deletes its stream, which it must not recreate.
      await app.stop('SIGKILL');
    }
  });

  it('reloads ENV_FILE on SIGHUP: applies a valid one, keeps running on an invalid one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cm-env-'));
    const envFile = join(dir, 'config-manager.env');
    const subjects = uniqueName('app_cm_hup');
    streams.push(subjects.toUpperCase());
    await writeFile(envFile, `LOG_LEVEL=info\nCONFIG_MANAGER_GRPC_PORT=0\nCONFIG_MANAGER_OPS_PORT=0\n`);
    const app = startAppProcess(
      script,
      { ENV_FILE: envFile, DATABASE_URL: database.url, NATS_URL: TEST_NATS_URL, NATS_STREAM: subjects.toUpperCase(), NATS_SUBJECT_ROOT: subjects },
      root,
    );
    try {
      await app.waitForOutput(/config-manager started/);
      await writeFile(envFile, `LOG_LEVEL=info\nCONFIG_MANAGER_GRPC_PORT=not-a-port\n`);
      app.child.kill('SIGHUP');
      await app.waitForOutput(/new configuration is invalid; keeping the current one/);
      await writeFile(envFile, `LOG_LEVEL=debug\nCONFIG_MANAGER_GRPC_PORT=0\nCONFIG_MANAGER_OPS_PORT=0\n`);
      app.child.kill('SIGHUP');
      await app.waitForOutput(/SIGHUP: configuration reloaded/);
      expect(app.output()).not.toMatch(/"level":"fatal"/);
      expect(await app.stop('SIGTERM')).toBe(0);
    } finally {
      await app.stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
