import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { serviceAppScenarios, startAppProcess } from '@llmops/platform-testing';

const root = join(import.meta.dirname, '..', '..', '..');

describe('config-manager app', () => {
  const app = serviceAppScenarios({ name: 'config-manager', envPrefix: 'CONFIG_MANAGER', root });

  it('reloads ENV_FILE on SIGHUP: applies a valid one, keeps running on an invalid one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cm-env-'));
    const envFile = join(dir, 'config-manager.env');
    await writeFile(envFile, `LOG_LEVEL=info\nCONFIG_MANAGER_GRPC_PORT=0\nCONFIG_MANAGER_OPS_PORT=0\n`);
    const process = startAppProcess(app.script, app.runEnvironment({ ENV_FILE: envFile }), root);
    try {
      await process.waitForOutput(/config-manager started/);
      await writeFile(envFile, `LOG_LEVEL=info\nCONFIG_MANAGER_GRPC_PORT=not-a-port\n`);
      process.child.kill('SIGHUP');
      await process.waitForOutput(/new configuration is invalid; keeping the current one/);
      await writeFile(envFile, `LOG_LEVEL=debug\nCONFIG_MANAGER_GRPC_PORT=0\nCONFIG_MANAGER_OPS_PORT=0\n`);
      process.child.kill('SIGHUP');
      await process.waitForOutput(/SIGHUP: configuration reloaded/);
      expect(await process.stop('SIGTERM')).toBe(0);
    } finally {
      await process.stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
