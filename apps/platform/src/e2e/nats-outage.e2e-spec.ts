import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, NatsServerProcess, sleep, waitFor, type TestDatabase } from '@llmops/platform-testing';
import { call, login, startPlatform, type RunningPlatform } from './platform-harness.js';

const WRITES = 1_000;
const CONCURRENCY = 16;
const OUTAGE_MS = 10_000;

describe('NATS outage during a burst of config writes', () => {
  let database: TestDatabase;
  let nats: NatsServerProcess;
  let platform: RunningPlatform;

  beforeAll(async () => {
    database = await createTestDatabase({ prefix: 'e2e_outage' });
    nats = await NatsServerProcess.start();
    platform = await startPlatform({ DATABASE_URL: database.url, NATS_URL: nats.url, RATE_LIMIT_PER_MINUTE: '100000' });
  });

  afterAll(async () => {
    await platform?.stop();
    await nats?.dispose();
    await database?.drop();
  });

  it('loses no audit entry and duplicates none when NATS is down for 10 s', async () => {
    const token = await login(platform.baseUrl);
    let next = 0;
    let outage: Promise<void> | undefined;
    const writer = async (): Promise<void> => {
      while (next < WRITES) {
        const index = next++;
        if (index === 200) {
          outage = (async () => {
            await nats.kill();
            await sleep(OUTAGE_MS);
            await nats.restart();
          })();
        }
        const response = await call(platform.baseUrl, 'PUT', `/api/v1/configs/burst/keys/k${index}?env=production`, {
          token,
          body: { value: index },
        });
        expect(response.status).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, writer));
    await outage;

    const entries = await waitFor(
      async () => {
        const all: Array<{ id: string; resource_id: string }> = [];
        let cursor: string | null = null;
        do {
          const page: { body: { data: Array<{ id: string; resource_id: string }>; next_cursor: string | null } } = await call(
            platform.baseUrl,
            'GET',
            `/api/v1/audit_logs?resource_type=configs&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
            { token },
          );
          all.push(...page.body.data);
          cursor = page.body.next_cursor;
        } while (cursor);
        return all.length >= WRITES ? all : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, message: 'audit entries did not all arrive after NATS came back' },
    );
    expect(entries).toHaveLength(WRITES);
    expect(new Set(entries.map((e) => e.id)).size).toBe(WRITES);
    expect(new Set(entries.map((e) => e.resource_id)).size).toBe(WRITES);
  }, 180_000);
});
