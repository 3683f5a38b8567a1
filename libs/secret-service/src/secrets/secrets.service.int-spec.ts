import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SecretEventType, SecretType } from '@llmops/contracts';
import { Outbox } from '@llmops/platform-messaging';
import { createLogger } from '@llmops/platform-observability';
import { openDatabase, type Database } from '@llmops/platform-persistence';
import { createTestDatabase, type TestDatabase } from '@llmops/platform-testing';
import { EnvelopeCipher, LocalKeyring } from '../envelope/index.js';
import { SECRET_SERVICE_MIGRATIONS } from '../secret-service.host.js';
import { SECRET_SERVICE_SCHEMA } from '../migrations/1764000000000-CreateSecrets.js';
import { SecretException, SecretExceptionCode } from './exceptions/secret.exception.js';
import { SecretAccess, type SecretActor } from './secret-access.js';
import { SecretsService } from './secrets.service.js';
import { failureOf } from './testing/failure-of.js';

const admin: SecretActor = { principal: { id: 'admin-1', type: 'user', roles: ['global-admin'] }, requestId: 'r-admin' };
const developer: SecretActor = { principal: { id: 'dev-1', type: 'user', roles: ['developer'] }, requestId: 'r-dev' };
const viewer: SecretActor = { principal: { id: 'viewer-1', type: 'user', roles: ['viewer'] }, requestId: 'r-viewer' };

const TOKEN = 'sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c';


describe(SecretsService.name, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let secrets: SecretsService;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'secrets-'));
    testDatabase = await createTestDatabase({ prefix: 'secrets' });
    database = await openDatabase({
      service: 'secret-service',
      schema: SECRET_SERVICE_SCHEMA,
      url: testDatabase.url,
      entities: [],
      migrations: SECRET_SERVICE_MIGRATIONS,
    });
    const outbox = new Outbox({ source: 'secret-service', schema: SECRET_SERVICE_SCHEMA });
    const cipher = new EnvelopeCipher(await LocalKeyring.open({ dataDir }));
    const access = new SecretAccess(database, outbox, createLogger({ service: 'secrets-test', version: 'test', level: 'silent' }));
    secrets = new SecretsService(database, outbox, cipher, access);
  });

  afterAll(async () => {
    await database?.close();
    await testDatabase?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const events = async (type?: string): Promise<Array<{ subject: string; envelope: Buffer }>> =>
    (await database.dataSource.query(
      `SELECT subject, envelope FROM ${SECRET_SERVICE_SCHEMA}.outbox ${type ? 'WHERE subject LIKE $1' : ''} ORDER BY created_at`,
      type ? [`%.${type}`] : [],
    )) as Array<{ subject: string; envelope: Buffer }>;

  const write = (path: string, value: string, extra: Partial<Parameters<SecretsService['set']>[1]> = {}) =>
    secrets.set(admin, { path, environment: 'production', type: SecretType.GENERIC, value, ...extra });

  it('stores a value encrypted, reads it masked by default and in plaintext with reveal, auditing the reveal', async () => {
    const written = await write('acme/chat/openai-token', TOKEN);
    expect(written.version.version).toBe(1);
    const [row] = (await database.dataSource.query(
      `SELECT ciphertext, nonce, auth_tag, wrapped_dek, kek_version, masked_value FROM ${SECRET_SERVICE_SCHEMA}.secret_versions`,
    )) as Array<Record<string, Buffer | number | string>>;
    expect((row!.ciphertext as Buffer).includes(Buffer.from(TOKEN))).toBe(false);
    expect((row!.nonce as Buffer).length).toBe(12);
    expect(row!.kek_version).toBe(1);
    expect(row!.masked_value).not.toContain(TOKEN.slice(3, 12));

    const masked = await secrets.get(admin, { path: 'acme/chat/openai-token', environment: 'production' });
    expect(masked.revealed).toBe(false);
    expect(masked.value).not.toBe(TOKEN);

    const revealsBefore = (await events(SecretEventType.Revealed)).length;
    const revealed = await secrets.get(admin, { path: 'acme/chat/openai-token', environment: 'production', reveal: true });
    expect(revealed).toMatchObject({ revealed: true, value: TOKEN });
    const reveals = await events(SecretEventType.Revealed);
    expect(reveals).toHaveLength(revealsBefore + 1);
    expect(reveals.at(-1)!.envelope.includes(Buffer.from(TOKEN))).toBe(false);
  });

  it('gives a user without secrets:reveal the masked value and refuses the reveal with an audit entry', async () => {
    await secrets.set(admin, { path: 'acme/chat/dev-token', environment: 'development', type: SecretType.GENERIC, value: TOKEN });
    const masked = await secrets.get(viewer, { path: 'acme/chat/dev-token', environment: 'development' });
    expect(masked.revealed).toBe(false);
    const deniedBefore = (await events(SecretEventType.AccessDenied)).length;
    const refused = await failureOf(secrets.get(viewer, { path: 'acme/chat/dev-token', environment: 'development', reveal: true }));
    expect(refused.code).toBe(SecretExceptionCode.PermissionDenied);
    expect(refused.message).toContain('reveal');
    const denied = await events(SecretEventType.AccessDenied);
    expect(denied).toHaveLength(deniedBefore + 1);
    expect(denied.at(-1)!.subject).toContain('secret.access_denied');
    // A developer reveals in development but may not even read production secrets.
    expect((await secrets.get(developer, { path: 'acme/chat/dev-token', environment: 'development', reveal: true })).value).toBe(TOKEN);
    expect((await failureOf(secrets.get(developer, { path: 'acme/chat/openai-token', environment: 'production' }))).code).toBe(
      SecretExceptionCode.PermissionDenied,
    );
  });

  it('versions writes, supports check-and-set, and lets exactly one of two racing writers win', async () => {
    await write('acme/cas/key', 'value-1-aaaaaaaaaaaaaaaa', { expectedVersion: 0 });
    expect((await failureOf(write('acme/cas/key', 'value-x', { expectedVersion: 0 }))).code).toBe(SecretExceptionCode.VersionConflict);
    const results = await Promise.allSettled([
      write('acme/cas/key', 'racer-a-aaaaaaaaaaaaaaaa', { expectedVersion: 1 }),
      write('acme/cas/key', 'racer-b-bbbbbbbbbbbbbbbb', { expectedVersion: 1 }),
    ]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    expect((rejected.reason as SecretException).code).toBe(SecretExceptionCode.VersionConflict);
    const described = await secrets.describe(admin, { path: 'acme/cas/key', environment: 'production' });
    expect(described.secret.currentVersion).toBe(2);
    expect(described.versions.map((version) => version.version)).toEqual([1, 2]);
    expect((await secrets.get(admin, { path: 'acme/cas/key', environment: 'production', version: 1, reveal: true })).value).toBe(
      'value-1-aaaaaaaaaaaaaaaa',
    );
  });

  it('requires check-and-set once cas_required is set, and prunes versions beyond max_versions', async () => {
    await write('acme/pruned', 'v1-value', { maxVersions: 2, casRequired: true, expectedVersion: 0 });
    const refused = await failureOf(write('acme/pruned', 'v2-value'));
    expect(refused).toMatchObject({ code: SecretExceptionCode.InvalidValue, field: 'expected_version' });
    await write('acme/pruned', 'v2-value', { expectedVersion: 1 });
    await write('acme/pruned', 'v3-value', { expectedVersion: 2 });
    const described = await secrets.describe(admin, { path: 'acme/pruned', environment: 'production' });
    expect(described.versions.map((version) => version.version)).toEqual([2, 3]);
  });

  it('refuses a value that does not fit its type, naming the problem and not the value', async () => {
    const refused = await failureOf(
      secrets.set(admin, {
        path: 'acme/tls/edge',
        environment: 'production',
        type: SecretType.TLS_CERTIFICATE,
        value: JSON.stringify({ certificate: '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----', private_key: 'x' }),
      }),
    );
    expect(refused.code).toBe(SecretExceptionCode.InvalidValue);
    expect(refused.field).toMatch(/certificate/);
    expect(refused.message).not.toContain('not base64 at all');
    expect((await failureOf(write('Bad Path/x', 'v'))).code).toBe(SecretExceptionCode.InvalidPath);
    expect((await failureOf(secrets.set(admin, { path: 'acme/untyped', environment: 'production', type: SecretType.UNSPECIFIED, value: 'v' }))).code).toBe(
      SecretExceptionCode.InvalidValue,
    );
  });

  it('fails to decrypt, with a clear error, when ciphertext, nonce, tag, wrapped key or binding was tampered with', async () => {
    await write('acme/tamper/a', 'tamper-value-aaaaaaaaaaaa');
    await write('acme/tamper/b', 'tamper-value-bbbbbbbbbbbb');
    const tamper = async (sql: string): Promise<SecretException> => {
      await database.dataSource.query(`CREATE TEMP TABLE IF NOT EXISTS backup AS SELECT * FROM ${SECRET_SERVICE_SCHEMA}.secret_versions WHERE false`);
      await database.dataSource.query(`TRUNCATE backup`);
      await database.dataSource.query(`INSERT INTO backup SELECT * FROM ${SECRET_SERVICE_SCHEMA}.secret_versions`);
      await database.dataSource.query(sql);
      try {
        return await failureOf(secrets.get(admin, { path: 'acme/tamper/a', environment: 'production', reveal: true }));
      } finally {
        await database.dataSource.query(
          `UPDATE ${SECRET_SERVICE_SCHEMA}.secret_versions v SET ciphertext = b.ciphertext, nonce = b.nonce, auth_tag = b.auth_tag,
                  wrapped_dek = b.wrapped_dek FROM backup b WHERE b.secret_id = v.secret_id AND b.version = v.version`,
        );
      }
    };
    const target = `secret_id = (SELECT id FROM ${SECRET_SERVICE_SCHEMA}.secrets WHERE path = 'acme/tamper/a')`;
    const flipFirstByte = (column: string) =>
      `UPDATE ${SECRET_SERVICE_SCHEMA}.secret_versions SET ${column} = set_byte(${column}, 0, get_byte(${column}, 0) # 1) WHERE ${target}`;
    for (const column of ['ciphertext', 'nonce', 'auth_tag', 'wrapped_dek']) {
      const error = await tamper(flipFirstByte(column));
      expect(error.code).toBe(SecretExceptionCode.DecryptionFailed);
      expect(error.message).toContain('acme/tamper/a');
    }
    // Moving another row's sealed value here keeps every byte authentic but breaks the binding to path and version.
    const moved = await tamper(
      `UPDATE ${SECRET_SERVICE_SCHEMA}.secret_versions v SET ciphertext = o.ciphertext, nonce = o.nonce, auth_tag = o.auth_tag, wrapped_dek = o.wrapped_dek
         FROM ${SECRET_SERVICE_SCHEMA}.secret_versions o
        WHERE v.${target} AND o.secret_id = (SELECT id FROM ${SECRET_SERVICE_SCHEMA}.secrets WHERE path = 'acme/tamper/b')`,
    );
    expect(moved.code).toBe(SecretExceptionCode.DecryptionFailed);
    expect((await secrets.get(admin, { path: 'acme/tamper/a', environment: 'production', reveal: true })).value).toBe('tamper-value-aaaaaaaaaaaa');
  });

  it('soft-deletes, undeletes and destroys versions, and deletes a secret with its metadata', async () => {
    await write('acme/life/key', 'life-1-aaaaaaaaaaaaaaaaaa');
    await write('acme/life/key', 'life-2-aaaaaaaaaaaaaaaaaa');
    expect(await secrets.deleteVersions(admin, { path: 'acme/life/key', environment: 'production' }, [])).toEqual([2]);
    const deleted = await failureOf(secrets.get(admin, { path: 'acme/life/key', environment: 'production' }));
    expect(deleted.code).toBe(SecretExceptionCode.NotFound);
    expect(deleted.message).toContain('undelete');
    expect(await secrets.undeleteVersions(admin, { path: 'acme/life/key', environment: 'production' }, [2])).toEqual([2]);
    expect((await secrets.get(admin, { path: 'acme/life/key', environment: 'production', reveal: true })).value).toBe('life-2-aaaaaaaaaaaaaaaaaa');
    expect(await secrets.destroyVersions(admin, { path: 'acme/life/key', environment: 'production' }, [1])).toEqual([1]);
    const [destroyed] = (await database.dataSource.query(
      `SELECT ciphertext, wrapped_dek, destroyed_at FROM ${SECRET_SERVICE_SCHEMA}.secret_versions v
         JOIN ${SECRET_SERVICE_SCHEMA}.secrets s ON s.id = v.secret_id WHERE s.path = 'acme/life/key' AND v.version = 1`,
    )) as Array<Record<string, unknown>>;
    expect(destroyed).toMatchObject({ ciphertext: null, wrapped_dek: null });
    expect(destroyed!.destroyed_at).not.toBeNull();
    expect((await failureOf(secrets.get(admin, { path: 'acme/life/key', environment: 'production', version: 1, reveal: true }))).message).toContain(
      'destroyed',
    );
    expect((await failureOf(secrets.deleteVersions(admin, { path: 'acme/life/key', environment: 'production' }, [9]))).code).toBe(
      SecretExceptionCode.NotFound,
    );
    await secrets.deleteSecret(admin, { path: 'acme/life/key', environment: 'production' });
    expect((await failureOf(secrets.describe(admin, { path: 'acme/life/key', environment: 'production' }))).code).toBe(SecretExceptionCode.NotFound);
  });

  it('lists the secrets of a folder and the folders below it, as Vault LIST does', async () => {
    await write('team/app/db-password', 'list-value-aaaaaaaaaaaaaa');
    await write('team/app/api/token', 'list-value-bbbbbbbbbbbbbb');
    await write('team/other/token', 'list-value-cccccccccccccc');
    const listing = await secrets.list(admin, { folder: 'team/app', environment: 'production' });
    expect(listing.secrets.map(({ secret }) => secret.path)).toEqual(['team/app/db-password']);
    expect(listing.folders).toEqual(['api/']);
    expect((await secrets.list(admin, { folder: '', environment: 'production' })).folders).toEqual(expect.arrayContaining(['acme/', 'team/']));
    expect((await failureOf(secrets.list(admin, { folder: 'nothing/here', environment: 'production' }))).code).toBe(SecretExceptionCode.NotFound);
  });

  it('reveals nothing when the reveal cannot be recorded (fail closed), and records each of many concurrent reveals', async () => {
    const ref = { path: 'closed/api', environment: 'production' };
    await secrets.set(admin, { ...ref, type: SecretType.GENERIC, value: 'fail-closed-plaintext' });
    await database.dataSource.query(
      `CREATE FUNCTION ${SECRET_SERVICE_SCHEMA}.refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit storage unavailable'; END $$ LANGUAGE plpgsql`,
    );
    await database.dataSource.query(`CREATE TRIGGER refuse BEFORE INSERT ON ${SECRET_SERVICE_SCHEMA}.outbox FOR EACH ROW EXECUTE FUNCTION ${SECRET_SERVICE_SCHEMA}.refuse()`);
    try {
      await expect(secrets.get(admin, { ...ref, reveal: true })).rejects.toThrow('audit storage unavailable');
    } finally {
      await database.dataSource.query(`DROP TRIGGER refuse ON ${SECRET_SERVICE_SCHEMA}.outbox`);
      await database.dataSource.query(`DROP FUNCTION ${SECRET_SERVICE_SCHEMA}.refuse()`);
    }
    const before = (await events(SecretEventType.Revealed)).length;
    const reads = await Promise.all(Array.from({ length: 25 }, () => secrets.get(admin, { ...ref, reveal: true })));
    expect(reads.map((read) => read.value)).toEqual(Array(25).fill('fail-closed-plaintext'));
    expect((await events(SecretEventType.Revealed)).length).toBe(before + 25);
  });

  it('never writes a plaintext value into an event', async () => {
    const all = await events();
    expect(all.length).toBeGreaterThan(10);
    for (const { envelope } of all) {
      for (const value of [TOKEN, 'life-2-aaaaaaaaaaaaaaaaaa', 'racer-a-aaaaaaaaaaaaaaaa', 'tamper-value-aaaaaaaaaaaa']) {
        expect(envelope.includes(Buffer.from(value))).toBe(false);
      }
    }
  });
});
