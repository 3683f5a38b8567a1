import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  applyPlan,
  ConfigApiError,
  ConfigClient,
  exportNamespace,
  parseNamespaceFile,
  planDirectory,
  readConfigDirectory,
  runLlmopsConfig,
  serializeNamespaceFile,
  writeConfigDirectory,
  type ConfigChange,
  type GatewayConnection,
} from '@llmops/sdk';
import {
  createTestDatabase,
  deleteJetStreamStreams,
  freePort,
  TEST_NATS_URL,
  TEST_REDIS_URL,
  uniqueName,
  waitFor,
  type TestDatabase,
} from '@llmops/platform-testing';
import { call, login, startPlatform, type RunningPlatform } from './platform-harness.js';

describe('SDK against the platform on real PostgreSQL, Redis and NATS JetStream', () => {
  let database: TestDatabase;
  let platform: RunningPlatform | undefined;
  let port: number;
  let workDir: string;
  let token: string;
  /** A viewer's API key: the SDK reads with the least a sidecar needs, and keys outlive a restart (tokens do not). */
  let viewerKey: string;
  const stream = uniqueName('E2E_SDK').toUpperCase();
  const clients: ConfigClient[] = [];

  const start = async (gatewayPort = port): Promise<RunningPlatform> =>
    startPlatform({
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      NATS_URL: TEST_NATS_URL,
      NATS_STREAM: stream,
      NATS_SUBJECT_ROOT: stream.toLowerCase(),
      GATEWAY_PORT: String(gatewayPort),
      RATE_LIMIT_PER_MINUTE: '100000',
    });
  const baseUrl = (): string => `http://127.0.0.1:${port}`;
  const put = async (path: string, env: string, value: unknown, on = { baseUrl: baseUrl(), token }): Promise<void> => {
    const response = await call(on.baseUrl, 'PUT', `/api/v1/configs/${path}?env=${env}`, { token: on.token, body: { value } });
    expect(response.status).toBe(200);
  };
  const remove = async (path: string, env: string): Promise<void> => {
    const response = await call(baseUrl(), 'DELETE', `/api/v1/configs/${path}?env=${env}`, { token });
    expect(response.status).toBe(200);
  };
  const connect = async (options: { snapshotFile?: string; onChange?: (change: ConfigChange) => void } = {}): Promise<ConfigClient> => {
    const client = await ConfigClient.connect({
      baseUrl: baseUrl(),
      apiKey: viewerKey,
      namespace: 'sdk/app',
      environment: 'production',
      reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
      snapshotDebounceMs: 20,
      ...options,
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    database = await createTestDatabase({ prefix: 'e2e_sdk' });
    port = await freePort();
    workDir = await mkdtemp(join(tmpdir(), 'llmops-sdk-e2e-'));
    platform = await start();
    token = await login(baseUrl());
    const created = await call(baseUrl(), 'POST', '/api/v1/api-keys', { token, body: { name: 'sdk-sidecar', roles: ['viewer'] } });
    expect(created.status).toBe(201);
    viewerKey = created.body.key;
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await platform?.stop();
    await database?.drop();
    await deleteJetStreamStreams([stream]);
    await rm(workDir, { recursive: true, force: true });
  });

  it('loads a namespace tree for its environment and follows the watch without letting a less specific write win', async () => {
    await put('sdk/app/model', 'base', 'small');
    await put('sdk/app/model', 'production', 'large');
    await put('sdk/app/timeout', 'base', 30);
    await put('sdk/app/eval/threshold', 'staging', 0.5);
    await put('sdk/app/canary', 'qa', true);
    const changes: ConfigChange[] = [];
    const client = await connect({ onChange: (change) => changes.push(change) });

    expect(client.status).toBe('connected');
    expect(client.keys()).toEqual(['eval/threshold', 'model', 'timeout']);
    expect(client.get('model')).toBe('large');
    expect(client.get('eval/threshold')).toBe(0.5);
    expect(client.get('missing', 'fallback')).toBe('fallback');
    expect(client.has('canary')).toBe(false);

    // base is shadowed by production, qa is outside production's chain: neither may change what production reads.
    await put('sdk/app/model', 'base', 'medium');
    await put('sdk/app/canary', 'qa', false);
    await put('sdk/app/timeout', 'production', 45);
    await waitFor(() => client.get('timeout') === 45, { timeoutMs: 5_000, message: 'the watch did not deliver the write' });
    expect(client.get('model')).toBe('large');
    expect(client.has('canary')).toBe(false);

    // Deleting the production value uncovers base's newest, which the client never held.
    await remove('sdk/app/model', 'production');
    await put('sdk/app/eval/fresh', 'base', { on: true });
    await waitFor(() => client.has('eval/fresh'), { timeoutMs: 5_000, message: 'the new nested key did not arrive' });
    expect(client.get('model')).toBe('medium');
    expect(changes.map(({ key, value, previous }) => ({ key, value, previous }))).toEqual([
      { key: 'timeout', value: 45, previous: 30 },
      { key: 'model', value: 'medium', previous: 'large' },
      { key: 'eval/fresh', value: { on: true }, previous: undefined },
    ]);
    expect(client.revision).toBe(changes.at(-1)!.revision);
  });

  it('keeps serving through a platform outage and catches up on what changed meanwhile, each change once', async () => {
    const snapshotFile = join(workDir, 'sidecar', 'sdk-app.json');
    const changes: ConfigChange[] = [];
    const client = await connect({ snapshotFile, onChange: (change) => changes.push(change) });
    const before = client.get('timeout');
    expect(before).toBe(45);

    await platform!.stop();
    platform = undefined;
    await waitFor(() => client.status === 'offline', { timeoutMs: 5_000, message: 'the client did not notice the outage' });
    expect(client.get('timeout')).toBe(45);
    expect(client.get('model')).toBe('medium');

    // Changes made while the client cannot see the platform: the same database, served on another port.
    const elsewhere = await start(await freePort());
    try {
      // Each start signs tokens with a fresh key (DATA_DIR is new), so every start needs its own login.
      const there = { baseUrl: elsewhere.baseUrl, token: await login(elsewhere.baseUrl) };
      await put('sdk/app/timeout', 'production', 60, there);
      await put('sdk/app/model', 'production', 'huge', there);
    } finally {
      await elsewhere.stop();
    }
    expect(client.status).toBe('offline');
    expect(client.get('timeout')).toBe(45);

    platform = await start();
    await waitFor(() => client.status === 'connected' && client.get('model') === 'huge', { timeoutMs: 10_000, message: 'the client did not catch up' });
    token = await login(baseUrl());
    expect(client.get('timeout')).toBe(60);
    expect(changes.map(({ key, value }) => ({ key, value }))).toEqual([
      { key: 'timeout', value: 60 },
      { key: 'model', value: 'huge' },
    ]);
    await client.close();
    const snapshot = JSON.parse(await readFile(snapshotFile, 'utf8')) as { revision: number; keys: Record<string, { value: unknown }> };
    expect(snapshot.revision).toBe(client.revision);
    expect(snapshot.keys.model!.value).toBe('huge');
  });

  it('starts from its snapshot while the platform is down, says so, and goes live when it returns', async () => {
    const snapshotFile = join(workDir, 'sidecar', 'sdk-app.json');
    await platform!.stop();
    platform = undefined;

    const client = await connect({ snapshotFile });
    expect(client.status).toBe('offline');
    expect(client.get('model')).toBe('huge');
    expect(client.keys()).toEqual(['eval/fresh', 'eval/threshold', 'model', 'timeout']);

    platform = await start();
    token = await login(baseUrl());
    await waitFor(() => client.status === 'connected', { timeoutMs: 10_000, message: 'the client did not reconnect' });
    await put('sdk/app/timeout', 'production', 75);
    await waitFor(() => client.get('timeout') === 75, { timeoutMs: 5_000, message: 'the watch did not resume after a snapshot start' });
  });

  it('refuses to start without a snapshot while the platform is unreachable', async () => {
    await expect(
      ConfigClient.connect({ baseUrl: `http://127.0.0.1:${await freePort()}`, apiKey: viewerKey, namespace: 'sdk/app', environment: 'production' }),
    ).rejects.toMatchObject({ name: 'TypeError', cause: { code: 'ECONNREFUSED' } });
  });

  describe('config as code', () => {
    const connection = (): GatewayConnection => ({ baseUrl: baseUrl(), token });
    const cli = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
      let out = '';
      let err = '';
      const code = await runLlmopsConfig(args, {
        env: { LLMOPS_URL: baseUrl(), LLMOPS_TOKEN: token },
        stdout: (text) => (out += text),
        stderr: (text) => (err += text),
      });
      return { code, out, err };
    };

    it('exports a tree, plans exactly the edits, applies them, and exports the files back', async () => {
      await put('cac/app/model', 'base', { provider: 'openai', model: 'gpt-4o-mini' });
      await put('cac/app/model', 'production', { provider: 'openai', model: 'gpt-4o' });
      await put('cac/app/temperature', 'base', 0.3);
      await put('cac/app/legacy', 'base', true);
      await put('cac/app/eval/threshold', 'staging', 0.5);

      const exported = await exportNamespace(connection(), 'cac');
      expect(exported).toEqual([
        {
          namespace: 'cac/app',
          keys: {
            legacy: { base: true },
            model: { base: { provider: 'openai', model: 'gpt-4o-mini' }, production: { provider: 'openai', model: 'gpt-4o' } },
            temperature: { base: 0.3 },
          },
        },
        { namespace: 'cac/app/eval', keys: { threshold: { staging: 0.5 } } },
      ]);
      const dir = join(workDir, 'configs');
      expect(await writeConfigDirectory(dir, exported, 'yaml')).toEqual([join('cac', 'app.yaml'), join('cac', 'app', 'eval.yaml')]);

      const appFile = join(dir, 'cac', 'app.yaml');
      const edited = parseNamespaceFile('app.yaml', await readFile(appFile, 'utf8'));
      edited.model!.production = { provider: 'openai', model: 'gpt-4.1' };
      edited.max_tokens = { production: 512 };
      delete edited.legacy;
      await writeFile(appFile, serializeNamespaceFile(edited, 'yaml'));

      const plan = await cli('plan', dir);
      expect(plan).toEqual({
        code: 0,
        err: '',
        out: [
          'Namespaces: cac/app, cac/app/eval',
          '  + cac/app/max_tokens [production] = 512',
          '  ~ cac/app/model [production]',
          '      /model: "gpt-4o" → "gpt-4.1"',
          '  - cac/app/legacy [base] (was true)',
          'Plan: 1 to create, 1 to change, 1 to delete, 3 unchanged.',
          '',
        ].join('\n'),
      });
      expect(await cli('apply', dir)).toMatchObject({ code: 2, err: expect.stringContaining('--auto-approve') });
      expect(await cli('apply', dir, '--auto-approve')).toMatchObject({ code: 0, out: expect.stringContaining('Applied: 3 change(s).') });

      const files = (await readConfigDirectory(dir)).map(({ namespace, keys }) => ({ namespace, keys }));
      expect(await exportNamespace(connection(), 'cac')).toEqual(files);
      expect((await cli('plan', dir)).out).toContain('No changes. 5 unchanged.');
      const legacy = await call(baseUrl(), 'GET', '/api/v1/configs/cac/app/legacy?env=base', { token });
      expect(legacy.status).toBe(404);
    });

    it('fails a stale plan as a whole: nothing it planned is written', async () => {
      const dir = join(workDir, 'configs');
      const appFile = join(dir, 'cac', 'app.yaml');
      const edited = parseNamespaceFile('app.yaml', await readFile(appFile, 'utf8'));
      edited.temperature = { base: 0.5 };
      edited.top_p = { base: 0.9 };
      await writeFile(appFile, serializeNamespaceFile(edited, 'yaml'));
      const plan = await planDirectory(connection(), dir);
      expect(plan.create.map((change) => change.key)).toEqual(['top_p']);
      expect(plan.update.map((change) => [change.key, change.before, change.after])).toEqual([['temperature', 0.3, 0.5]]);

      await put('cac/app/temperature', 'base', 0.4);
      const refused = await applyPlan(connection(), plan).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ConfigApiError);
      expect(refused).toMatchObject({ status: 409, code: 'CONFLICT' });
      const topP = await call(baseUrl(), 'GET', '/api/v1/configs/cac/app/top_p?env=base', { token });
      expect(topP.status).toBe(404);
      const temperature = await call(baseUrl(), 'GET', '/api/v1/configs/cac/app/temperature?env=base', { token });
      expect(temperature.body.value).toBe(0.4);
    });
  });
});
