import { expect } from '@jest/globals';
import { call, login, type RunningPlatform } from './platform-harness.js';

const API_KEY_VALUE = 'sk-refs-0123456789abcdefghijklmnopqrstuv';

/**
 * A config that points at secrets: `{"$secret": path}` (and `"field"` for one field of a structured secret) is
 * resolved on read for a caller allowed to reveal it, and left in place, with the reason, for one who is not.
 */
export async function walkSecretReferences(platform: RunningPlatform): Promise<void> {
  const { baseUrl } = platform;
  const token = await login(baseUrl);
  const secret = (path: string, body: unknown) => call(baseUrl, 'POST', `/api/v1/secrets/${path}?env=production`, { token, body });
  expect((await secret('refs/openai', { type: 'api_key', value: { provider: 'openai', key: API_KEY_VALUE } })).status).toBe(201);
  expect((await secret('refs/webhook-token', { type: 'generic', value: 'whk-0123456789abcdef0123' })).status).toBe(201);

  const configUrl = '/api/v1/configs/refs/chatbot/model?env=production';
  const value = {
    provider: 'openai',
    api_key: { $secret: 'refs/openai', field: 'key' },
    webhooks: [{ url: 'https://hooks.example/1', token: { $secret: 'refs/webhook-token' } }],
    fallback: { $secret: 'refs/missing' },
  };
  expect((await call(baseUrl, 'PUT', configUrl, { token, body: { value } })).status).toBe(200);

  // A plain read returns references, never values.
  const plain = await call(baseUrl, 'GET', configUrl, { token });
  expect(plain.body.value).toEqual(value);

  const resolved = await call(baseUrl, 'GET', `${configUrl}&resolve_secrets=true`, { token });
  expect(resolved.status).toBe(200);
  expect(resolved.headers.get('cache-control')).toBe('no-store');
  expect(resolved.body.value).toEqual({
    provider: 'openai',
    api_key: API_KEY_VALUE,
    webhooks: [{ url: 'https://hooks.example/1', token: 'whk-0123456789abcdef0123' }],
    fallback: { $secret: 'refs/missing' },
  });
  expect(resolved.body.unresolved_secrets).toEqual([{ path: 'refs/missing', reason: 'NOT_FOUND', message: expect.stringContaining('refs/missing') }]);

  // A viewer reads the config but may not reveal secrets: references stay, and say why.
  const viewer = await call(baseUrl, 'POST', '/api/v1/api-keys', { token, body: { name: 'refs-viewer', roles: ['viewer'] } });
  const asViewer = await call(baseUrl, 'GET', `${configUrl}&resolve_secrets=true`, { apiKey: viewer.body.key as string });
  expect(asViewer.status).toBe(200);
  expect(asViewer.body.value).toEqual(value);
  // Refused before existence is checked, so a missing secret does not show through either.
  expect(asViewer.body.unresolved_secrets.map((unresolved: { reason: string }) => unresolved.reason)).toEqual([
    'PERMISSION_DENIED',
    'PERMISSION_DENIED',
    'PERMISSION_DENIED',
  ]);
  expect(JSON.stringify(asViewer.body)).not.toContain(API_KEY_VALUE);
}
