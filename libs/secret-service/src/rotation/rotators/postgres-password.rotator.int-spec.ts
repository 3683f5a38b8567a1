import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SecretEventType, SecretType } from '@llmops/contracts';
import { TEST_DATABASE_ADMIN_URL, uniqueName } from '@llmops/platform-testing';
import pg from 'pg';
import { SecretExceptionCode } from '../../secrets/exceptions/secret.exception.js';
import { failureOf, openRotationTestBed, TEST_ADMIN, type RotationTestBed } from '../testing/rotation-test-bed.js';
import { ADMIN_SECRET_LABEL, MANAGED_USERNAMES_LABEL, PostgresPasswordRotator, USERNAMES_LABEL } from './postgres-password.rotator.js';
import type { DatabaseCredentials } from './postgres-connection.js';

const ENVIRONMENT = 'production';
const GRACE_SECONDS = 3600;
const ADMIN_PATH = 'platform/postgres-admin';
const WEAK_ADMIN_PATH = 'platform/postgres-weak-admin';

/**
 * This machine's pg_hba.conf trusts every TCP login from 127.0.0.1, so a wrong password would still log in. What a
 * password-checking server would decide is therefore proven from the SCRAM verifier in pg_authid (checked here
 * independently of the rotator's code, against verifiers PostgreSQL itself made), and "stops working" also from
 * NOLOGIN, which PostgreSQL enforces even for trusted logins.
 */
function scramVerifierAccepts(password: string, verifier: string | null): boolean {
  const parts = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(verifier ?? '');
  if (!parts) return false;
  const saltedPassword = pbkdf2Sync(password, Buffer.from(parts[2]!, 'base64'), Number(parts[1]), 32, 'sha256');
  // RFC 5802: the server keeps StoredKey = H(HMAC(SaltedPassword, "Client Key")); a client proves it knows ClientKey.
  const storedKey = createHash('sha256').update(createHmac('sha256', saltedPassword).update('Client Key').digest()).digest();
  const expected = Buffer.from(parts[3]!, 'base64');
  return expected.length === storedKey.length && timingSafeEqual(expected, storedKey);
}

describe(PostgresPasswordRotator.name, () => {
  let bed: RotationTestBed;
  let superuser: pg.Client;
  const roles = {
    admin: uniqueName('rot_admin'),
    weak: uniqueName('rot_weak'),
    blue: uniqueName('rot_blue'),
    green: uniqueName('rot_green'),
    solo: uniqueName('rot_solo'),
    amber: uniqueName('rot_amber'),
    violet: uniqueName('rot_violet'),
  };
  /** A database only amber may connect to, so that logging in as violet fails the test step. */
  const lockedDatabase = uniqueName('t_rot_locked');
  type Role = keyof typeof roles;
  const initialPasswords = Object.fromEntries(Object.keys(roles).map((role) => [role, `initial-${randomBytes(12).toString('hex')}`])) as Record<Role, string>;
  let database: string;

  const credentials = (role: Role): DatabaseCredentials => ({
    engine: 'postgresql',
    host: '127.0.0.1',
    port: Number(new URL(TEST_DATABASE_ADMIN_URL).port || 5432),
    database,
    username: roles[role],
    password: initialPasswords[role],
  });

  const storedVerifier = async (role: string): Promise<{ rolpassword: string | null; rolcanlogin: boolean }> =>
    (await superuser.query<{ rolpassword: string | null; rolcanlogin: boolean }>('SELECT rolpassword, rolcanlogin FROM pg_authid WHERE rolname = $1', [role]))
      .rows[0]!;

  /** A real login over TCP with these credentials, as an application would make it. */
  const logsIn = async (login: DatabaseCredentials): Promise<boolean> => {
    const client = new pg.Client({ host: login.host, port: login.port, database: login.database, user: login.username, password: login.password });
    try {
      await client.connect();
      const { rows } = await client.query<{ user: string }>('SELECT current_user AS "user"');
      return rows[0]?.user === login.username;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  const reveal = async (path: string, version?: number): Promise<DatabaseCredentials> =>
    JSON.parse((await bed.secrets.get(TEST_ADMIN, { path, environment: ENVIRONMENT, version, reveal: true })).value) as DatabaseCredentials;

  const versionsOf = async (path: string): Promise<Array<{ version: number; validUntil: Date | null; revokedAt: Date | null }>> =>
    (await bed.secrets.describe(TEST_ADMIN, { path, environment: ENVIRONMENT })).versions;

  beforeAll(async () => {
    bed = await openRotationTestBed('pg_rotation');
    database = bed.testDatabase.name;
    superuser = new pg.Client({ connectionString: TEST_DATABASE_ADMIN_URL });
    await superuser.connect();
    const create = async (role: Role, attributes: string): Promise<void> => {
      await superuser.query(`CREATE ROLE ${pg.escapeIdentifier(roles[role])} WITH LOGIN ${attributes} PASSWORD ${pg.escapeLiteral(initialPasswords[role])}`);
    };
    await create('admin', 'CREATEROLE');
    await create('weak', '');
    await create('blue', '');
    await create('green', '');
    await create('solo', '');
    await create('amber', '');
    await create('violet', '');
    await superuser.query(`CREATE DATABASE ${pg.escapeIdentifier(lockedDatabase)}`);
    await superuser.query(`REVOKE CONNECT ON DATABASE ${pg.escapeIdentifier(lockedDatabase)} FROM PUBLIC`);
    await superuser.query(`GRANT CONNECT ON DATABASE ${pg.escapeIdentifier(lockedDatabase)} TO ${pg.escapeIdentifier(roles.amber)}`);
    // PostgreSQL 16+ lets a CREATEROLE role alter only roles it holds ADMIN OPTION on; 15 accepts this too.
    const [blue, green, amber, violet, admin] = [roles.blue, roles.green, roles.amber, roles.violet, roles.admin].map((role) => pg.escapeIdentifier(role));
    await superuser.query(`GRANT ${blue}, ${green}, ${amber}, ${violet} TO ${admin} WITH ADMIN OPTION`);

    const managed = { [MANAGED_USERNAMES_LABEL]: [roles.blue, roles.green, roles.amber, roles.violet] };
    for (const [path, role] of [[ADMIN_PATH, 'admin'], [WEAK_ADMIN_PATH, 'weak']] as const) {
      await bed.secrets.set(TEST_ADMIN, {
        path,
        environment: ENVIRONMENT,
        type: SecretType.DATABASE_CREDENTIALS,
        value: JSON.stringify(credentials(role)),
        labels: managed,
        rotationPeriodSeconds: 0,
      });
    }
  });

  afterAll(async () => {
    await bed?.close();
    await superuser?.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(lockedDatabase)} WITH (FORCE)`);
    for (const role of Object.values(roles)) await superuser?.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`);
    await superuser?.end();
  });

  it('checks SCRAM verifiers the way PostgreSQL does, and reports how this server authenticates TCP logins', async () => {
    const { rows } = await superuser.query<{ auth_method: string }>(
      `SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host' AND address = '127.0.0.1' ORDER BY line_number LIMIT 1`,
    );
    // Recorded for whoever reads the test: on this machine it is `trust`, hence the verifier checks below.
    expect(['trust', 'scram-sha-256', 'md5', 'password']).toContain(rows[0]?.auth_method);
    const { rolpassword } = await storedVerifier(roles.blue);
    expect(scramVerifierAccepts(initialPasswords.blue, rolpassword)).toBe(true);
    expect(scramVerifierAccepts(initialPasswords.green, rolpassword)).toBe(false);
  });

  describe('with alternating roles', () => {
    const path = 'acme/chat/postgres';

    beforeAll(async () => {
      await bed.secrets.set(TEST_ADMIN, {
        path,
        environment: ENVIRONMENT,
        type: SecretType.DATABASE_CREDENTIALS,
        value: JSON.stringify({ ...credentials('blue'), sslmode: 'prefer' }),
        labels: { [USERNAMES_LABEL]: [roles.blue, roles.green], [ADMIN_SECRET_LABEL]: ADMIN_PATH },
        gracePeriodSeconds: GRACE_SECONDS,
      });
    });

    it('moves the value to the alternate role with a new password while the old credentials keep working', async () => {
      const before = await storedVerifier(roles.green);
      const rotated = await bed.rotation.rotate(TEST_ADMIN, { path, environment: ENVIRONMENT });
      expect(rotated.version.version).toBe(2);
      expect(rotated.previousValidUntil!.getTime()).toBeGreaterThan(Date.now() + (GRACE_SECONDS - 60) * 1000);

      const current = await reveal(path);
      expect(current).toMatchObject({ username: roles.green, host: '127.0.0.1', database, sslmode: 'prefer' });
      expect(current.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const green = await storedVerifier(roles.green);
      expect(green.rolpassword).not.toBe(before.rolpassword);
      expect(scramVerifierAccepts(current.password, green.rolpassword)).toBe(true);
      expect(scramVerifierAccepts(initialPasswords.green, green.rolpassword)).toBe(false);
      expect(await logsIn(current)).toBe(true);

      // The overlap: the previous version's credentials still log in and its password is still the role's.
      const previous = await reveal(path, 1);
      expect(previous.username).toBe(roles.blue);
      expect(scramVerifierAccepts(previous.password, (await storedVerifier(roles.blue)).rolpassword)).toBe(true);
      expect(await logsIn(previous)).toBe(true);

      const [event] = await bed.events(SecretEventType.Rotated);
      expect(event!.payload).toMatchObject({ path, version: 2, previous_version: 1, rotator: 'postgres-password', read_secrets: [ADMIN_PATH] });
    });

    it('refuses a second rotation during the overlap', async () => {
      const refused = await failureOf(bed.rotation.rotate(TEST_ADMIN, { path, environment: ENVIRONMENT }));
      expect(refused.code).toBe(SecretExceptionCode.Conflict);
      expect((await versionsOf(path)).map((version) => version.version)).toEqual([1, 2]);
    });

    it('waits for the sessions of the old role before revoking it, then takes its password and LOGIN away', async () => {
      const previous = await reveal(path, 1);
      const session = new pg.Client({ host: previous.host, port: previous.port, database, user: previous.username, password: previous.password });
      await session.connect();
      const overlapEnd = Date.now() + GRACE_SECONDS * 1000;
      try {
        expect(await bed.rotation.revokeEndedOverlaps(TEST_ADMIN, new Date(overlapEnd + 1000))).toBe(0);
        const postponed = (await versionsOf(path))[0]!;
        expect(postponed.revokedAt).toBeNull();
        expect(postponed.validUntil!.getTime()).toBeGreaterThan(overlapEnd);
        expect(await logsIn(previous)).toBe(true);
      } finally {
        await session.end();
      }

      expect(await bed.rotation.revokeEndedOverlaps(TEST_ADMIN, new Date(overlapEnd + 120_000))).toBe(1);
      expect((await versionsOf(path))[0]!.revokedAt).not.toBeNull();
      expect(await storedVerifier(roles.blue)).toEqual({ rolpassword: null, rolcanlogin: false });
      expect(await logsIn(previous)).toBe(false);
      expect(await logsIn(await reveal(path))).toBe(true);
      const [revoked] = await bed.events(SecretEventType.PreviousVersionRevoked);
      expect(revoked!.payload).toMatchObject({ path, version: 1, still_in_use: 0, read_secrets: [ADMIN_PATH] });
    });

    it('alternates back to the first role on the next rotation', async () => {
      await bed.rotation.rotate(TEST_ADMIN, { path, environment: ENVIRONMENT });
      const current = await reveal(path);
      expect(current.username).toBe(roles.blue);
      expect(await storedVerifier(roles.blue)).toMatchObject({ rolcanlogin: true });
      expect(scramVerifierAccepts(current.password, (await storedVerifier(roles.blue)).rolpassword)).toBe(true);
      expect(await logsIn(current)).toBe(true);
      expect(await logsIn(await reveal(path, 2))).toBe(true);
    });

    it('stores nothing and records the failure when the admin role may not ALTER ROLE', async () => {
      const weakPath = 'acme/weak/postgres';
      await bed.secrets.set(TEST_ADMIN, {
        path: weakPath,
        environment: ENVIRONMENT,
        type: SecretType.DATABASE_CREDENTIALS,
        value: JSON.stringify(credentials('green')),
        labels: { [USERNAMES_LABEL]: [roles.blue, roles.green], [ADMIN_SECRET_LABEL]: WEAK_ADMIN_PATH },
        gracePeriodSeconds: GRACE_SECONDS,
      });
      const blueBefore = await storedVerifier(roles.blue);
      const failed = await failureOf(bed.rotation.rotate(TEST_ADMIN, { path: weakPath, environment: ENVIRONMENT }));
      expect(failed.code).toBe(SecretExceptionCode.RotationFailed);
      expect(failed.message).toContain('42501'); // insufficient_privilege
      expect(await storedVerifier(roles.blue)).toEqual(blueBefore);
      expect((await versionsOf(weakPath)).map((version) => version.version)).toEqual([1]);
      const failures = await bed.events(SecretEventType.RotationFailed);
      expect(failures.at(-1)!.payload).toMatchObject({ path: weakPath, code: SecretExceptionCode.RotationFailed });
    });

    it('stores nothing and records the failure when the new credentials cannot log in (test step)', async () => {
      const lockedPath = 'acme/locked/postgres';
      await bed.secrets.set(TEST_ADMIN, {
        path: lockedPath,
        environment: ENVIRONMENT,
        type: SecretType.DATABASE_CREDENTIALS,
        value: JSON.stringify({ ...credentials('amber'), database: lockedDatabase }),
        labels: { [USERNAMES_LABEL]: [roles.amber, roles.violet], [ADMIN_SECRET_LABEL]: ADMIN_PATH },
        gracePeriodSeconds: GRACE_SECONDS,
      });
      const failed = await failureOf(bed.rotation.rotate(TEST_ADMIN, { path: lockedPath, environment: ENVIRONMENT }));
      expect(failed.code).toBe(SecretExceptionCode.RotationFailed);
      expect(failed.message).toMatch(/^logging in with the new password: connecting to .* failed \(42501\)$/);
      expect((await versionsOf(lockedPath)).map((version) => version.version)).toEqual([1]);
      expect((await reveal(lockedPath)).username).toBe(roles.amber);
      const failures = await bed.events(SecretEventType.RotationFailed);
      expect(failures.at(-1)!.payload).toMatchObject({ path: lockedPath, code: SecretExceptionCode.RotationFailed });
    });

    it('refuses a role the admin secret does not list as managed, before touching the server', async () => {
      const rogue = 'acme/rogue/postgres';
      await bed.secrets.set(TEST_ADMIN, {
        path: rogue,
        environment: ENVIRONMENT,
        type: SecretType.DATABASE_CREDENTIALS,
        value: JSON.stringify(credentials('solo')),
        labels: { [USERNAMES_LABEL]: [roles.solo, roles.admin], [ADMIN_SECRET_LABEL]: ADMIN_PATH },
        gracePeriodSeconds: GRACE_SECONDS,
      });
      const adminBefore = await storedVerifier(roles.admin);
      const refused = await failureOf(bed.rotation.rotate(TEST_ADMIN, { path: rogue, environment: ENVIRONMENT }));
      expect(refused.code).toBe(SecretExceptionCode.RotationFailed);
      expect(refused.message).toContain(MANAGED_USERNAMES_LABEL);
      expect(await storedVerifier(roles.admin)).toEqual(adminBefore);
    });
  });

  describe('with a single role', () => {
    const path = 'acme/solo/postgres';

    it('refuses a grace period, since the old password ends at once', async () => {
      await bed.secrets.set(TEST_ADMIN, { path, environment: ENVIRONMENT, type: SecretType.DATABASE_CREDENTIALS, value: JSON.stringify(credentials('solo')) });
      const refused = await failureOf(bed.rotation.rotate(TEST_ADMIN, { path, environment: ENVIRONMENT }));
      expect(refused.code).toBe(SecretExceptionCode.RotationFailed);
      expect(refused.message).toContain('grace_period_seconds');
      expect(scramVerifierAccepts(initialPasswords.solo, (await storedVerifier(roles.solo)).rolpassword)).toBe(true);
    });

    it('with a grace period of 0 lets the role change its own password and revokes the previous version at once', async () => {
      const value = JSON.stringify(credentials('solo'));
      await bed.secrets.set(TEST_ADMIN, { path, environment: ENVIRONMENT, type: SecretType.UNSPECIFIED, value, gracePeriodSeconds: 0 });
      const rotated = await bed.rotation.rotate(TEST_ADMIN, { path, environment: ENVIRONMENT });
      expect(rotated.previousValidUntil).toBeUndefined();
      const current = await reveal(path);
      expect(current.username).toBe(roles.solo);
      const { rolpassword } = await storedVerifier(roles.solo);
      expect(scramVerifierAccepts(current.password, rolpassword)).toBe(true);
      expect(scramVerifierAccepts(initialPasswords.solo, rolpassword)).toBe(false);
      expect((await versionsOf(path)).find((version) => version.version === rotated.previousVersion)!.revokedAt).not.toBeNull();
    });
  });

  it('never writes a password into an event', async () => {
    const passwords = [...Object.values(initialPasswords)];
    for (const path of ['acme/chat/postgres', 'acme/solo/postgres']) {
      for (const { version } of await versionsOf(path)) passwords.push((await reveal(path, version)).password);
    }
    const envelopes = await bed.rawEvents();
    expect(envelopes.length).toBeGreaterThan(10);
    for (const envelope of envelopes) {
      for (const password of passwords) expect(envelope.includes(Buffer.from(password))).toBe(false);
    }
  });
});
