import { expect } from '@jest/globals';
import { waitFor } from '@llmops/platform-testing';
import { call, login, type RunningPlatform } from './platform-harness.js';

/**
 * A bad deploy undone through the gateway: history shows every version with its author, a rollback writes the good
 * value as a new version (racing rollbacks with the same expected version: one wins, one gets 409), a deleted key is
 * undeleted, and each of these reaches the audit log.
 */
export async function walkConfigHistory(platform: RunningPlatform): Promise<void> {
  const { baseUrl } = platform;
  const token = await login(baseUrl);
  const path = '/api/v1/configs/history-walk/chatbot/model';
  for (const model of ['gpt-4o', 'gpt-4o-mini', 'broken-model']) {
    expect((await call(baseUrl, 'PUT', `${path}?env=staging`, { token, body: { value: { model } } })).status).toBe(200);
  }

  const history = await call(baseUrl, 'GET', `${path}/history?env=staging&limit=2`, { token });
  expect(history.status).toBe(200);
  expect(history.body.data.map((entry: { version: number; value: unknown; deleted: boolean }) => [entry.version, entry.value, entry.deleted])).toEqual([
    [3, { model: 'broken-model' }, false],
    [2, { model: 'gpt-4o-mini' }, false],
  ]);
  expect(history.body.data[0].updated_by).toBeTruthy();
  expect(history.body.next_before_version).toBe(2);
  const older = await call(baseUrl, 'GET', `${path}/history?env=staging&before_version=2`, { token });
  expect(older.body.data.map((entry: { version: number }) => entry.version)).toEqual([1]);
  expect(older.body.next_before_version).toBeNull();

  const racing = await Promise.all(
    [1, 2].map((version) => call(baseUrl, 'POST', `${path}/rollback?env=staging`, { token, body: { version, expected_version: 3 } })),
  );
  expect(racing.map((response) => response.status).sort()).toEqual([200, 409]);
  const winner = racing.find((response) => response.status === 200)!;
  expect(winner.body).toMatchObject({ version: 4, deleted: false });
  expect((await call(baseUrl, 'GET', `${path}?env=staging`, { token })).body.value).toEqual(winner.body.value);

  expect((await call(baseUrl, 'DELETE', `${path}?env=staging`, { token })).status).toBe(200);
  expect((await call(baseUrl, 'GET', `${path}?env=staging&exact=true`, { token })).status).toBe(404);
  const undeleted = await call(baseUrl, 'POST', `${path}/undelete?env=staging`, { token, body: {} });
  expect(undeleted.status).toBe(200);
  expect(undeleted.body).toMatchObject({ version: 6, value: winner.body.value, deleted: false });
  const again = await call(baseUrl, 'POST', `${path}/undelete?env=staging`, { token, body: {} });
  expect(again.status).toBe(409);
  expect(again.body.error.message).toContain('is not deleted');

  const bad = async (method: string, url: string, status: number, mentions: string, body?: unknown): Promise<void> => {
    const response = await call(baseUrl, method, url, { token, body });
    expect({ url, status: response.status }).toEqual({ url, status });
    expect(response.body.error.message).toContain(mentions);
  };
  await bad('POST', `${path}/rollback?env=staging`, 404, 'version 99', { version: 99 });
  await bad('POST', `${path}/rollback?env=staging`, 400, 'version', { version: 0 });
  await bad('POST', `${path}/rollback?env=staging`, 400, 'deleted the key', { version: 5 });
  await bad('GET', `${path}/history?env=staging&limit=0`, 400, 'limit');
  await bad('PUT', '/api/v1/configs/history-walk/chatbot/history?env=staging', 400, 'reserved', { value: 1 });
  const viewerKey = await call(baseUrl, 'POST', '/api/v1/api-keys', { token, body: { name: 'history-viewer', roles: ['viewer'] } });
  const denied = await call(baseUrl, 'POST', `${path}/rollback?env=staging`, { apiKey: viewerKey.body.key, body: { version: 1 } });
  expect(denied.status).toBe(403);

  const audited = await waitFor(
    async () => {
      const entries = await call(baseUrl, 'GET', '/api/v1/audit_logs?resource_id=history-walk/chatbot/model@staging&limit=50', { token });
      const types = entries.body.data.map((entry: { event_type: string }) => entry.event_type);
      return types.includes('config.rolled_back') && types.includes('config.restored') ? entries.body.data : undefined;
    },
    { timeoutMs: 20_000, message: 'the rollback and the undelete did not reach the audit log' },
  );
  const rollback = audited.find((entry: { event_type: string }) => entry.event_type === 'config.rolled_back');
  expect(rollback.details).toMatchObject({ version: 4 });
  expect([1, 2]).toContain(rollback.details.rolled_back_to);
}

/** Paths behave like a file system through the gateway: a path is a key or a namespace, and a namespace lists. */
export async function walkNamespaces(platform: RunningPlatform): Promise<void> {
  const { baseUrl } = platform;
  const token = await login(baseUrl);
  const put = (path: string, value: unknown) => call(baseUrl, 'PUT', `/api/v1/configs/${path}?env=development`, { token, body: { value } });
  expect((await put('fs-walk/app/model', 'gpt-4o')).status).toBe(200);
  expect((await put('fs-walk/app/prompts/greeting', 'hello')).status).toBe(200);

  const listing = await call(baseUrl, 'GET', '/api/v1/configs/fs-walk/app?env=development', { token });
  expect(listing.status).toBe(200);
  expect(listing.body).toMatchObject({ namespace: 'fs-walk/app', environment: 'development', namespaces: ['prompts'] });
  expect(listing.body.keys.map((entry: { key: string; value: unknown }) => [entry.key, entry.value])).toEqual([['model', 'gpt-4o']]);
  const top = await call(baseUrl, 'GET', '/api/v1/configs/fs-walk?env=development', { token });
  expect(top.body).toMatchObject({ namespace: 'fs-walk', keys: [], namespaces: ['app'] });
  expect((await call(baseUrl, 'GET', '/api/v1/configs/fs-walk/app/model?env=development', { token })).body.value).toBe('gpt-4o');

  const overNamespace = await put('fs-walk/app/prompts', 'x');
  expect(overNamespace.status).toBe(409);
  expect(overNamespace.body.error.message).toContain('is a namespace');
  const underKey = await put('fs-walk/app/model/temperature', 0.2);
  expect(underKey.status).toBe(409);
  expect(underKey.body.error.message).toContain('is a key');
  const nothing = await call(baseUrl, 'GET', '/api/v1/configs/fs-walk/nothing-here?env=development', { token });
  expect(nothing.status).toBe(404);
}

/**
 * A namespace governed by settings through the gateway: its JSON Schemas refuse bad writes (and a key pattern's
 * schema wins), values can be checked without writing, its own environment chain resolves reads, and only a role
 * that may write everywhere changes the settings.
 */
export async function walkNamespaceSettings(platform: RunningPlatform): Promise<void> {
  const { baseUrl } = platform;
  const token = await login(baseUrl);
  const settings = {
    schema: { type: 'object', required: ['model'], properties: { model: { type: 'string' }, temperature: { type: 'number', maximum: 2 } } },
    key_schemas: { 'limit*': { type: 'integer', minimum: 1 } },
    environments: ['base', 'dev', 'prod'],
  };
  const put = await call(baseUrl, 'PUT', '/api/v1/namespaces/settings-walk', { token, body: { ...settings, expected_version: 0 } });
  expect(put.status).toBe(200);
  expect(put.body).toMatchObject({ namespace: 'settings-walk', defined_at: 'settings-walk', version: 1, environments: ['base', 'dev', 'prod'] });
  const inherited = await call(baseUrl, 'GET', '/api/v1/namespaces/settings-walk/chatbot', { token });
  expect(inherited.body).toMatchObject({ namespace: 'settings-walk/chatbot', defined_at: 'settings-walk', schema: settings.schema });
  const stale = await call(baseUrl, 'PUT', '/api/v1/namespaces/settings-walk', { token, body: { ...settings, expected_version: 0 } });
  expect(stale.status).toBe(409);

  const write = (key: string, value: unknown, env = 'dev') =>
    call(baseUrl, 'PUT', `/api/v1/configs/settings-walk/chatbot/${key}?env=${env}`, { token, body: { value } });
  expect((await write('model', { model: 'gpt-4o', temperature: 0.2 })).status).toBe(200);
  const refused = await write('model', { temperature: 5 });
  expect(refused.status).toBe(400);
  expect(refused.body.error.message).toContain("must have required property 'model'");
  expect(refused.body.error.message).toContain('/temperature must be <= 2');
  expect((await write('limit_rpm', 0)).status).toBe(400);
  expect((await write('limit_rpm', 60)).status).toBe(200);
  const resolved = await call(baseUrl, 'GET', '/api/v1/configs/settings-walk/chatbot/model?env=prod', { token });
  expect(resolved.body).toMatchObject({ resolved_from: 'dev', value: { model: 'gpt-4o', temperature: 0.2 } });

  const checked = await call(baseUrl, 'POST', '/api/v1/configs/settings-walk/chatbot/validate', {
    token,
    body: { values: { model: { model: 'claude' }, limit_tpm: 'lots' } },
  });
  expect(checked.status).toBe(200);
  expect(checked.body).toEqual({
    valid: false,
    results: [
      { key: 'model', valid: true, problems: [] },
      { key: 'limit_tpm', valid: false, problems: [{ path: '', message: 'must be integer' }] },
    ],
  });
  const history = await call(baseUrl, 'GET', '/api/v1/configs/settings-walk/chatbot/model/history?env=dev', { token });
  expect(history.body.data).toHaveLength(1);

  const viewerKey = await call(baseUrl, 'POST', '/api/v1/api-keys', { token, body: { name: 'settings-viewer', roles: ['viewer'] } });
  const developerKey = await call(baseUrl, 'POST', '/api/v1/api-keys', { token, body: { name: 'settings-dev', roles: ['developer'] } });
  expect((await call(baseUrl, 'POST', '/api/v1/configs/settings-walk/chatbot/validate', { apiKey: viewerKey.body.key, body: { values: { model: 1 } } })).status).toBe(200);
  expect((await call(baseUrl, 'PUT', '/api/v1/namespaces/settings-walk', { apiKey: developerKey.body.key, body: settings })).status).toBe(403);
  const badSchema = await call(baseUrl, 'PUT', '/api/v1/namespaces/settings-walk', { token, body: { schema: { type: 7 } } });
  expect(badSchema.status).toBe(400);
  expect(badSchema.body.error.message).toContain('schema');
}

/** Many changes as one: a bulk request applies in order or not at all, and names the operation that failed. */
export async function walkBulk(platform: RunningPlatform): Promise<void> {
  const { baseUrl } = platform;
  const token = await login(baseUrl);
  const applied = await call(baseUrl, 'POST', '/api/v1/configs/bulk', {
    token,
    body: {
      operations: [
        { op: 'set', path: 'bulk-walk/app/model', env: 'staging', value: { model: 'gpt-4o' } },
        { op: 'set', path: 'bulk-walk/app/temperature', env: 'staging', value: 0.3, classification: 'public' },
        { op: 'set', path: 'bulk-walk/app/model', env: 'staging', value: { model: 'gpt-4o-mini' }, expected_version: 1 },
      ],
    },
  });
  expect(applied.status).toBe(200);
  expect(applied.body.results.map((entry: { key: string; version: number }) => [entry.key, entry.version])).toEqual([
    ['model', 1],
    ['temperature', 1],
    ['model', 2],
  ]);

  const rejected = await call(baseUrl, 'POST', '/api/v1/configs/bulk', {
    token,
    body: {
      operations: [
        { op: 'delete', path: 'bulk-walk/app/temperature', env: 'staging' },
        { op: 'set', path: 'bulk-walk/app/model', env: 'staging', value: { model: 'stale' }, expected_version: 1 },
      ],
    },
  });
  expect(rejected.status).toBe(409);
  expect(rejected.body.error.message).toMatch(/^operation 1: /);
  // Nothing of the failed request was applied: the deletion before the conflict was rolled back.
  expect((await call(baseUrl, 'GET', '/api/v1/configs/bulk-walk/app/temperature?env=staging', { token })).body.value).toBe(0.3);

  const developerKey = await call(baseUrl, 'POST', '/api/v1/api-keys', { token, body: { name: 'bulk-dev', roles: ['developer'] } });
  const denied = await call(baseUrl, 'POST', '/api/v1/configs/bulk', {
    apiKey: developerKey.body.key,
    body: {
      operations: [
        { op: 'set', path: 'bulk-walk/dev/flag', env: 'development', value: true },
        { op: 'set', path: 'bulk-walk/dev/flag', env: 'production', value: true },
      ],
    },
  });
  expect(denied.status).toBe(403);
  expect(denied.body.error.message).toMatch(/^operation 1: /);
  expect((await call(baseUrl, 'GET', '/api/v1/configs/bulk-walk/dev/flag?env=development', { token })).status).toBe(404);
  const malformed = await call(baseUrl, 'POST', '/api/v1/configs/bulk', { token, body: { operations: [{ op: 'set', path: 'bulk-walk/x' }] } });
  expect(malformed.status).toBe(400);
  expect(malformed.body.error.message).toContain('operations.0');
}
