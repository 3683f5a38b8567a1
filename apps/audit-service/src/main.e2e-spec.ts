import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, deleteJetStreamStreams, startAppProcess, TEST_NATS_URL, uniqueName, type TestDatabase } from '@llmops/platform-testing';

const root = join(import.meta.dirname, '..', '..', '..');
const script = 'dist/apps/audit-service/main.js';

describe('audit-service app', () => {
  let database: TestDatabase;
  const streams: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase({ prefix: 'app_audit' });
  });

  afterAll(async () => {
    await database?.drop();
    await deleteJetStreamStreams(streams);
  });

  it('refuses to start on an invalid environment and names each bad variable', async () => {
    const app = startAppProcess(script, { AUDIT_SERVICE_GRPC_PORT: 'fifty', DATABASE_URL: 'mysql://db' }, root);
    expect(await app.exited()).toBe(1);
    expect(app.output()).toContain('Invalid environment for audit-service');
    expect(app.output()).toMatch(/AUDIT_SERVICE_GRPC_PORT: .*\(got "fifty"\)/);
    expect(app.output()).toMatch(/DATABASE_URL: must be a URL with scheme postgres/);
  });

  it('runs alone on PostgreSQL and NATS, then stops cleanly on SIGTERM', async () => {
    const subjects = uniqueName('app_audit');
    streams.push(subjects.toUpperCase());
    const app = startAppProcess(
      script,
      {
        DATABASE_URL: database.url,
        NATS_URL: TEST_NATS_URL,
        NATS_STREAM: subjects.toUpperCase(),
        NATS_SUBJECT_ROOT: subjects,
        AUDIT_SERVICE_GRPC_PORT: '0',
        AUDIT_SERVICE_OPS_PORT: '0',
        LOG_LEVEL: 'info',
      },
      root,
    );
    try {
      await app.waitForOutput(/audit-service started/);
      expect(await app.stop('SIGTERM')).toBe(0);
      expect(app.output()).toMatch(/shutting down/);
    } finally {
      // Still running only if an expectation failed; afterAll deletes its stream, which it must not recreate.
      await app.stop('SIGKILL');
    }
  });
});
