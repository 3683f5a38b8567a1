import { createServer } from 'node:net';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { runLlmopsConfig } from './llmops-config-command.js';

/** A port nothing listens on: taken from the OS, then released. */
let closedPort: number;
beforeAll(async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closedPort = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function run(args: string[], env: Record<string, string> = { LLMOPS_URL: `http://127.0.0.1:${closedPort}`, LLMOPS_API_KEY: 'k' }): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await runLlmopsConfig(args, { env, stdout: () => undefined, stderr: (text) => (err += text) });
  return { code, err };
}

describe(runLlmopsConfig.name, () => {
  it('exits 2 with the usage on a bad command line', async () => {
    expect(await run([])).toMatchObject({ code: 2, err: expect.stringContaining('a command is required\nUsage:') });
    expect(await run(['plan'])).toMatchObject({ code: 2, err: expect.stringContaining('a directory is required') });
    expect(await run(['export', 'acme', '--format', 'toml'])).toMatchObject({ code: 2, err: expect.stringContaining('--format must be yaml or json') });
    expect(await run(['apply', 'dir', '--force'])).toMatchObject({ code: 2, err: expect.stringContaining('unknown option --force') });
    expect(await run(['plan', 'dir'], {})).toMatchObject({ code: 2, err: expect.stringContaining('LLMOPS_URL') });
  });

  it('exits 1 naming the failure when the work fails', async () => {
    expect(await run(['export', 'acme'])).toEqual({ code: 1, err: `Error: fetch failed (connect ECONNREFUSED 127.0.0.1:${closedPort})\n` });
  });
});
