import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SecretService, SecretType } from '@llmops/contracts';
import { principalToMetadata, type Principal } from '@llmops/platform-auth';
import { createGrpcClient, type GrpcClient } from '@llmops/platform-grpc';
import { createLogger } from '@llmops/platform-observability';
import { openDatabase, type Database } from '@llmops/platform-persistence';
import { serviceAppScenarios, startAppProcess, waitFor, type AppProcess } from '@llmops/platform-testing';

const root = join(import.meta.dirname, '..', '..', '..');
const SECRETS = 10_000;
const WRITERS = 16;
const admin: Principal = { id: 'kek-admin', type: 'user', roles: ['global-admin'] };
const metadata = principalToMetadata(admin, 'kek-rotation-test');
const valueOf = (index: number): string => `kek-rotation-value-${index.toString().padStart(5, '0')}-${'x'.repeat(16)}`;

describe('secret-service app', () => {
  const app = serviceAppScenarios({ name: 'secret-service', envPrefix: 'SECRET_SERVICE', root });
  let dataDir: string;
  let database: Database;
  const logger = createLogger({ service: 'kek-test', version: 'test', level: 'silent' });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kek-rotation-'));
    database = await openDatabase({ service: 'kek-test', schema: 'secret_service', url: app.database().url, entities: [], migrations: [] });
  });

  afterAll(async () => {
    await database?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = async (): Promise<{ process: AppProcess; client: GrpcClient<typeof SecretService> }> => {
    const process = startAppProcess(app.script, app.runEnvironment({ DATA_DIR: dataDir, SECRET_REWRAP_BATCH_SIZE: '100', LOG_LEVEL: 'info' }), root);
    await process.waitForOutput(/secret-service started/);
    const port = /"grpcPort":(\d+)[^\n]*secret-service started/.exec(process.output())![1];
    return { process, client: createGrpcClient(SecretService, { address: `127.0.0.1:${port}`, logger }) };
  };

  const countByKeyVersion = async (): Promise<Record<number, number>> => {
    const rows = (await database.dataSource.query(
      `SELECT kek_version, count(*)::int AS n FROM secret_service.secret_versions GROUP BY kek_version`,
    )) as Array<{ kek_version: number; n: number }>;
    return Object.fromEntries(rows.map((row) => [row.kek_version, row.n]));
  };

  const readSome = async (client: GrpcClient<typeof SecretService>, indexes: number[]): Promise<void> => {
    for (const index of indexes) {
      const read = await client.getSecret({ path: `fleet/app-${index}/token`, environment: 'production', reveal: true }, { metadata });
      expect(read.value).toBe(valueOf(index));
    }
  };

  // The operator's view of a key-encryption key rotation: 10,000 secrets, a rotation, the service killed while it
  // rewraps their data keys, restarted, and every secret readable throughout and afterwards.
  it('rewraps 10,000 data keys while reads succeed, and finishes after being killed halfway', async () => {
    let running = await start();
    try {
      let next = 0;
      await Promise.all(
        Array.from({ length: WRITERS }, async () => {
          for (let index = next++; index < SECRETS; index = next++) {
            await running.client.setSecret(
              { path: `fleet/app-${index}/token`, environment: 'production', type: SecretType.GENERIC, value: valueOf(index) },
              { metadata },
            );
          }
        }),
      );
      expect(await countByKeyVersion()).toEqual({ 1: SECRETS });

      const rotated = await running.client.rotateEncryptionKey({}, { metadata });
      expect(rotated.status).toMatchObject({ provider: 'local', currentVersion: 2 });
      // New data keys use the new version at once.
      await running.client.setSecret({ path: 'fleet/new/token', environment: 'production', type: SecretType.GENERIC, value: valueOf(-1) }, { metadata });
      const sample = Array.from({ length: 20 }, (_, i) => i * 499);
      await readSome(running.client, sample);
      await waitFor(async () => ((await countByKeyVersion())[2] ?? 0) >= SECRETS / 2, { timeoutMs: 120_000, intervalMs: 20 });
      running.process.child.kill('SIGKILL');
      await running.process.exited();
      running.client.close();

      const halfway = await countByKeyVersion();
      expect(halfway[1]).toBeGreaterThan(0);
      expect(halfway[1]! + halfway[2]!).toBe(SECRETS + 1);

      running = await start();
      // Old and new versions both decrypt while the restarted service resumes the rewrap.
      await readSome(running.client, sample);
      await waitFor(async () => (await countByKeyVersion())[1] === undefined, { timeoutMs: 120_000, intervalMs: 100 });
      expect(await countByKeyVersion()).toEqual({ 2: SECRETS + 1 });
      await readSome(running.client, sample);

      const status = await running.client.getEncryptionKeyStatus({}, { metadata });
      expect(Number(status.status!.dataKeysOnOlderVersions)).toBe(0);
      const retired = await running.client.setMinDecryptionVersion({ minDecryptionVersion: 2 }, { metadata });
      expect(retired.status!.minDecryptionVersion).toBe(2);
      await readSome(running.client, [0, SECRETS - 1]);
      const metrics = await fetch(`http://127.0.0.1:${/"opsPort":(\d+)/.exec(running.process.output())![1]}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/secret_kek_rewrap_remaining\S* 0/);
      expect(await running.process.stop('SIGTERM')).toBe(0);
    } finally {
      running.client.close();
      await running.process.stop('SIGKILL');
    }
  }, 240_000);
});
