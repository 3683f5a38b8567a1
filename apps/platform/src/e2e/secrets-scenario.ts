import { expect } from '@jest/globals';
import { waitFor } from '@llmops/platform-testing';
import { call, login, type RunningPlatform } from './platform-harness.js';

const FOLDER = 'secrets-walk';
const PATH = `${FOLDER}/payments/STRIPE_KEY`;
const URL = `/api/v1/secrets/${PATH}`;
/** Tokens a rotator can replace (no spaces, 16+ characters); the rotation keeps the tok_ prefix. */
const FIRST = 'tok_e2eFirstValue0123456789abcdefghij';
const SECOND = 'tok_e2eSecondValue0123456789abcdefghi';

/**
 * A secret's life through the REST API: written, read masked and revealed, refused to a viewer (and the refusal
 * audited against the secret), versioned with check-and-set, deleted, undeleted, destroyed, listed, rotated with an
 * overlap and purged; a malformed certificate is refused naming its field.
 */
export async function walkSecrets(platform: RunningPlatform): Promise<void> {
  const { baseUrl } = platform;
  const token = await login(baseUrl);
  const production = (suffix = ''): string => `${URL}${suffix}${suffix.includes('?') ? '&' : '?'}env=production`;

  const created = await call(baseUrl, 'POST', production(), { token, body: { type: 'generic', value: FIRST, grace_period_seconds: 300, expected_version: 0 } });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ path: PATH, environment: 'production', type: 'generic', version: 1, current_version: 1 });
  expect(JSON.stringify(created.body)).not.toContain(FIRST);

  const masked = await call(baseUrl, 'GET', production(), { token });
  expect(masked.status).toBe(200);
  expect(masked.body).toMatchObject({ version: 1, revealed: false });
  expect(masked.body.value).not.toContain(FIRST.slice(4, 30));
  const revealed = await call(baseUrl, 'GET', production('?reveal=true'), { token });
  expect(revealed.body).toMatchObject({ value: FIRST, revealed: true });
  expect(revealed.headers.get('cache-control')).toBe('no-store');

  const viewer = await call(baseUrl, 'POST', '/api/v1/api-keys', { token, body: { name: 'secrets-viewer', roles: ['viewer'] } });
  const asViewer = { apiKey: viewer.body.key as string };
  const viewerRead = await call(baseUrl, 'GET', production(), asViewer);
  expect(viewerRead.status).toBe(200);
  expect(viewerRead.body).toMatchObject({ value: masked.body.value, revealed: false });
  const viewerReveal = await call(baseUrl, 'GET', production('?reveal=true'), asViewer);
  expect(viewerReveal.status).toBe(403);
  expect(JSON.stringify(viewerReveal.body)).not.toContain(FIRST);
  expect((await call(baseUrl, 'POST', production(), { ...asViewer, body: { value: SECOND } })).status).toBe(403);

  const updated = await call(baseUrl, 'POST', production(), { token, body: { value: SECOND, expected_version: 1 } });
  expect(updated.status).toBe(200);
  expect(updated.body).toMatchObject({ version: 2, type: 'generic' });
  const stale = await call(baseUrl, 'POST', production(), { token, body: { value: 'tok_e2eStaleValue0123456789', expected_version: 1 } });
  expect(stale.status).toBe(409);
  expect(stale.body.error.message).toContain('version 2');
  expect((await call(baseUrl, 'POST', production(), { token, body: { value: 'tok_e2eStaleValue0123456789' }, headers: { 'if-match': '"1"' } })).status).toBe(409);
  expect((await call(baseUrl, 'GET', production('?reveal=true&version=1'), { token })).body.value).toBe(FIRST);

  const badCertificate = await call(baseUrl, 'POST', `/api/v1/secrets/${FOLDER}/tls/api?env=production`, {
    token,
    body: { type: 'tls_certificate', value: { certificate: 'not a certificate', private_key: 'not a key' } },
  });
  expect(badCertificate.status).toBe(400);
  expect(badCertificate.body.error.message).toContain('certificate');

  const deleted = await call(baseUrl, 'DELETE', production(), { token });
  expect(deleted.body).toEqual({ path: PATH, environment: 'production', versions: [2] });
  expect((await call(baseUrl, 'GET', production(), { token })).status).toBe(404);
  const undeleted = await call(baseUrl, 'POST', production('/undelete'), { token, body: { versions: [2] } });
  expect(undeleted.body.versions).toEqual([2]);
  expect((await call(baseUrl, 'GET', production('?reveal=true'), { token })).body.value).toBe(SECOND);
  expect((await call(baseUrl, 'POST', production('/destroy'), { token, body: { versions: [1] } })).body.versions).toEqual([1]);
  expect((await call(baseUrl, 'GET', production('?reveal=true&version=1'), { token })).status).toBe(404);
  const versions = await call(baseUrl, 'GET', production('/versions'), { token });
  expect(versions.body.versions.map((version: { version: number; destroyed: boolean }) => [version.version, version.destroyed])).toEqual([
    [1, true],
    [2, false],
  ]);

  const top = await call(baseUrl, 'GET', `/api/v1/secrets/${FOLDER}/?env=production`, { token });
  expect(top.body).toMatchObject({ folder: FOLDER, secrets: [], folders: ['payments/'] });
  const folder = await call(baseUrl, 'GET', `/api/v1/secrets/${FOLDER}/payments/?env=production`, { token });
  expect(folder.body.secrets.map((secret: { path: string }) => secret.path)).toEqual([PATH]);
  expect(JSON.stringify(folder.body)).not.toContain(SECOND);

  const rotated = await call(baseUrl, 'POST', production('/rotate'), { token });
  expect(rotated.status).toBe(200);
  expect(rotated.body).toMatchObject({ version: 3, previous_version: 2 });
  expect(Date.parse(rotated.body.previous_valid_until)).toBeGreaterThan(Date.now());
  const fresh = await call(baseUrl, 'GET', production('?reveal=true'), { token });
  expect(fresh.body.value).toMatch(/^tok_[A-Za-z0-9]{43}$/);
  const duringOverlap = await call(baseUrl, 'POST', production('/rotate'), { token });
  expect(duringOverlap.status).toBe(409);
  expect(duringOverlap.body.error.message).toContain('overlap');

  const keys = await call(baseUrl, 'GET', '/api/v1/secret-keys', { token });
  expect(keys.body).toMatchObject({ provider: 'local', min_decryption_version: 1 });
  expect(keys.body.current_version).toBeGreaterThanOrEqual(1);
  expect((await call(baseUrl, 'GET', '/api/v1/secret-keys', asViewer)).status).toBe(403);
  expect((await call(baseUrl, 'GET', `/api/v1/jwks/production/${FOLDER}/no-such-key`)).status).toBe(404);

  const purged = await call(baseUrl, 'DELETE', production('?purge=true'), { token });
  expect(purged.body).toEqual({ path: PATH, environment: 'production', purged: true });
  expect((await call(baseUrl, 'GET', production('/versions'), { token })).status).toBe(404);

  const audited = await waitFor(
    async () => {
      const entries = await call(baseUrl, 'GET', `/api/v1/audit_logs?resource_id=${encodeURIComponent(`${PATH}@production`)}&limit=100`, { token });
      const types: string[] = entries.body.data.map((entry: { event_type: string }) => entry.event_type);
      return types.includes('secret.access_denied') && types.includes('secret.deleted') ? entries.body.data : undefined;
    },
    { timeoutMs: 20_000, message: 'the refused reveal and the purge did not reach the audit log' },
  );
  const denial = audited.find((entry: { event_type: string }) => entry.event_type === 'secret.access_denied');
  expect(denial).toMatchObject({ resource_type: 'secrets', actor_id: viewer.body.id });
  expect(denial.details).toMatchObject({ permission: 'secrets:reveal', environment: 'production' });
  expect(JSON.stringify(audited)).not.toContain(FIRST);
}
