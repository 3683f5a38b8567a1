import { expect } from '@jest/globals';
import { waitFor } from '@llmops/platform-testing';
import { call, login, type RunningPlatform } from './platform-harness.js';

/** The first slice as a user walks it: log in, write and read a config, find the write in the audit log. */
export async function walkTheSlice(platform: RunningPlatform): Promise<void> {
  const { baseUrl } = platform;
  const token = await login(baseUrl);

  const put = await call(baseUrl, 'PUT', '/api/v1/configs/acme/chatbot/model?env=production', {
    token,
    body: { value: { provider: 'openai', model: 'gpt-4o', temperature: 0.3 } },
  });
  expect(put.status).toBe(200);
  expect(put.body).toMatchObject({ namespace: 'acme/chatbot', key: 'model', environment: 'production', version: 1 });
  expect(put.headers.get('x-request-id')).toBeTruthy();

  const second = await call(baseUrl, 'PUT', '/api/v1/configs/acme/chatbot/model?env=production', {
    token,
    body: { value: { provider: 'anthropic', model: 'claude-sonnet', temperature: 0.3 }, expected_version: 1 },
  });
  expect(second.status).toBe(200);
  expect(second.body.version).toBe(2);

  const get = await call(baseUrl, 'GET', '/api/v1/configs/acme/chatbot/model?env=production', { token });
  expect(get.status).toBe(200);
  expect(get.body.value).toEqual({ provider: 'anthropic', model: 'claude-sonnet', temperature: 0.3 });
  expect(get.body.resolved_from).toBe('production');
  expect(get.body.version).toBe(2);

  const entries = await waitFor(
    async () => {
      const audit = await call(baseUrl, 'GET', '/api/v1/audit_logs?resource_type=configs', { token });
      expect(audit.status).toBe(200);
      return audit.body.data.length >= 2 ? audit.body.data : undefined;
    },
    { timeoutMs: 20_000, message: 'the audit entries for the config writes did not arrive' },
  );
  expect(entries[0]).toMatchObject({
    event_type: 'config.updated',
    action: 'updated',
    resource_type: 'configs',
    resource_id: 'acme/chatbot/model@production',
    source: 'config-manager',
    actor_type: 'user',
  });
  expect(entries[0].details).toMatchObject({ version: 2, namespace: 'acme/chatbot' });
  expect(entries[1]).toMatchObject({ event_type: 'config.created', action: 'created' });
  expect(Date.parse(entries[0].created_at)).toBeGreaterThanOrEqual(Date.parse(entries[1].created_at));

  const deleted = await call(baseUrl, 'DELETE', '/api/v1/configs/acme/chatbot/model?env=production', { token });
  expect(deleted.status).toBe(200);
  const gone = await call(baseUrl, 'GET', '/api/v1/configs/acme/chatbot/model?env=production', { token });
  expect(gone.status).toBe(404);
  expect(gone.body.error.code).toBe('NOT_FOUND');
}
