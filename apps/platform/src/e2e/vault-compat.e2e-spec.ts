import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import vault from 'node-vault';
import { call, EMBEDDED_START_TIMEOUT_MS, login, startPlatform, type RunningPlatform } from './platform-harness.js';

type VaultClient = ReturnType<typeof vault>;

/** What a Vault client's failed call carries: Vault's status and error body. */
async function vaultFailure(attempt: Promise<unknown>): Promise<{ statusCode: number; body: { errors: string[] } }> {
  try {
    await attempt;
  } catch (error) {
    const response = (error as vault.ApiResponseError).response;
    if (response) return response;
    throw error;
  }
  throw new Error('expected the Vault call to fail');
}

/** A real Vault client (node-vault) pointed at the gateway, with an API key as its token. */
describe('Vault KV v2 compatibility (node-vault against the gateway, embedded defaults)', () => {
  let platform: RunningPlatform;
  let admin: VaultClient;
  let adminKey: string;
  let viewerKey: string;
  const connect = (token: string): VaultClient =>
    // Node.js refuses Vault's LIST verb, so listing goes as GET ?list=1, as Vault clients do when told to.
    vault({ endpoint: platform.baseUrl, token, noCustomHTTPVerbs: true });

  beforeAll(async () => {
    platform = await startPlatform({ DATABASE_URL: undefined, REDIS_URL: undefined, NATS_URL: undefined });
    const token = await login(platform.baseUrl);
    adminKey = (await call(platform.baseUrl, 'POST', '/api/v1/api-keys', { token, body: { name: 'vault-admin', roles: ['global-admin'] } })).body.key;
    viewerKey = (await call(platform.baseUrl, 'POST', '/api/v1/api-keys', { token, body: { name: 'vault-viewer', roles: ['viewer'] } })).body.key;
    admin = connect(adminKey);
  }, EMBEDDED_START_TIMEOUT_MS);

  afterAll(async () => {
    await platform?.stop();
  });

  it('writes and reads versions of a data map, with check-and-set', async () => {
    const first = await admin.write('secret/data/production/vault-walk/db', { data: { username: 'app', password: 'first-password' }, options: { cas: 0 } });
    expect(first).toMatchObject({ lease_id: '', renewable: false, lease_duration: 0, wrap_info: null, warnings: null, auth: null });
    expect(first.data).toMatchObject({ version: 1, destroyed: false, deletion_time: '' });
    await admin.write('secret/data/production/vault-walk/db', { data: { username: 'app', password: 'second-password' }, options: { cas: 1 } });

    const current = await admin.read('secret/data/production/vault-walk/db');
    expect(current.data.data).toEqual({ username: 'app', password: 'second-password' });
    expect(current.data.metadata).toMatchObject({ version: 2, destroyed: false, deletion_time: '', custom_metadata: null });
    expect(Date.parse(current.data.metadata.created_time)).toBeGreaterThan(0);
    const older = await admin.read('secret/data/production/vault-walk/db?version=1');
    expect(older.data.data.password).toBe('first-password');

    const conflict = await vaultFailure(admin.write('secret/data/production/vault-walk/db', { data: { password: 'stale' }, options: { cas: 1 } }));
    expect(conflict).toEqual({ statusCode: 400, body: { errors: ['check-and-set parameter did not match the current version'] } });
    // The same secret through the REST API: a generic secret holding the data map as JSON, in the first segment's environment.
    const token = await login(platform.baseUrl);
    const rest = await call(platform.baseUrl, 'GET', '/api/v1/secrets/vault-walk/db?env=production&reveal=true', { token });
    expect(rest.body).toMatchObject({ type: 'generic', version: 2, value: '{"username":"app","password":"second-password"}' });
  });

  it('deletes, undeletes and destroys versions, and shows them in the metadata', async () => {
    await admin.delete('secret/data/production/vault-walk/db');
    expect(await vaultFailure(admin.read('secret/data/production/vault-walk/db'))).toEqual({ statusCode: 404, body: { errors: [] } });
    await admin.write('secret/undelete/production/vault-walk/db', { versions: [2] });
    expect((await admin.read('secret/data/production/vault-walk/db')).data.data.password).toBe('second-password');
    await admin.destroySecretVersions({ path: 'production/vault-walk/db', versions: [1] });
    await admin.write('secret/delete/production/vault-walk/db', { versions: [2] });

    const metadata = await admin.read('secret/metadata/production/vault-walk/db');
    expect(metadata.data).toMatchObject({ current_version: 2, oldest_version: 1, max_versions: 0, cas_required: false });
    expect(metadata.data.versions['1']).toMatchObject({ destroyed: true, deletion_time: '' });
    expect(metadata.data.versions['2'].destroyed).toBe(false);
    expect(Date.parse(metadata.data.versions['2'].deletion_time)).toBeGreaterThan(0);
    expect(await vaultFailure(admin.read('secret/data/production/vault-walk/db?version=1'))).toEqual({ statusCode: 404, body: { errors: [] } });
  });

  it('lists keys and folders, and erases a secret with its metadata', async () => {
    await admin.write('secret/data/production/vault-walk/api/openai', { data: { value: 'tok_listing0123456789' } });
    await admin.write('secret/data/production/vault-walk/token', { data: { value: 'plain' } });
    expect((await admin.list('secret/metadata/production/vault-walk/')).data.keys).toEqual(['api/', 'db', 'token']);
    expect((await admin.list('secret/metadata/production')).data.keys).toEqual(['vault-walk/']);

    await admin.delete('secret/metadata/production/vault-walk/token');
    expect(await vaultFailure(admin.read('secret/metadata/production/vault-walk/token'))).toEqual({ statusCode: 404, body: { errors: [] } });
    expect((await admin.list('secret/metadata/production/vault-walk/')).data.keys).toEqual(['api/', 'db']);
    expect(await vaultFailure(admin.list('secret/metadata/production/nothing-here/'))).toEqual({ statusCode: 404, body: { errors: [] } });
  });

  it('answers refusals and bad requests as Vault does', async () => {
    const viewer = connect(viewerKey);
    expect((await viewer.read('secret/metadata/production/vault-walk/api/openai')).data.current_version).toBe(1);
    const reveal = await vaultFailure(viewer.read('secret/data/production/vault-walk/api/openai'));
    expect(reveal.statusCode).toBe(403);
    expect(reveal.body.errors[0]).toBe('permission denied');
    const write = await vaultFailure(viewer.write('secret/data/production/vault-walk/api/openai', { data: { value: 'x' } }));
    expect(write.statusCode).toBe(403);
    expect(write.body.errors[0]).toBe('permission denied');

    const stranger = await vaultFailure(connect('llmops_not-a-real-key').read('secret/data/production/vault-walk/db'));
    expect(stranger.statusCode).toBe(403);
    expect(stranger.body.errors[0]).toBe('permission denied');

    const noEnvironment = await vaultFailure(admin.read('secret/data/production'));
    expect(noEnvironment.statusCode).toBe(400);
    expect(noEnvironment.body.errors[0]).toContain('<environment>/<secret path>');
    const noData = await vaultFailure(admin.write('secret/data/production/vault-walk/db', { options: { cas: 2 } }));
    expect(noData).toEqual({ statusCode: 400, body: { errors: ['data: no data provided'] } });
    const badPath = await vaultFailure(admin.write('secret/data/production/vault-walk/bad path', { data: { a: 'b' } }));
    expect(badPath.statusCode).toBe(400);
    expect(badPath.body.errors[0]).toContain('path segment');

    expect(await admin.health()).toMatchObject({ initialized: true, sealed: false });
  });
});
