import { createServer, type Server } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InProcessBus } from '@llmops/platform-messaging';
import { createLogger, createMetricsRegistry } from '@llmops/platform-observability';
import { createTestDatabase, TEST_DATABASE_ADMIN_URL, waitFor, type TestDatabase } from '@llmops/platform-testing';
import pg from 'pg';
import { loadApiGatewayEnv } from './api-gateway.env.js';
import { ApiGatewayHost } from './api-gateway.host.js';

describe(ApiGatewayHost.name, () => {
  let database: TestDatabase;
  let dataDir: string;
  let occupied: Server;

  beforeAll(async () => {
    database = await createTestDatabase({ prefix: 'gateway_host' });
    dataDir = await mkdtemp(join(tmpdir(), 'gateway-host-'));
    occupied = createServer();
    await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => occupied.close(resolve));
    await rm(dataDir, { recursive: true, force: true });
    await database?.drop();
  });

  it('releases its database connections when it cannot start', async () => {
    const port = (occupied.address() as { port: number }).port;
    const env = loadApiGatewayEnv({
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(port),
      ADMIN_PASSWORD: 'an-admin-password',
    });
    const bus = new InProcessBus();
    const host = new ApiGatewayHost(env, {
      logger: createLogger({ service: 'gateway-host-test', version: 'test', level: 'silent' }),
      registry: createMetricsRegistry({ service: 'gateway-host-test', collectDefaults: false }),
      eventBus: () => bus,
    });
    await expect(host.start()).rejects.toThrow(/EADDRINUSE/);
    const admin = new pg.Client({ connectionString: TEST_DATABASE_ADMIN_URL });
    await admin.connect();
    try {
      await waitFor(
        async () => {
          const { rows } = await admin.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'api-gateway'`,
            [database.name],
          );
          return rows[0]?.n === 0;
        },
        { timeoutMs: 5_000, message: 'the gateway left database connections open after a failed start' },
      );
    } finally {
      await admin.end();
      await bus.close();
    }
  });
});
