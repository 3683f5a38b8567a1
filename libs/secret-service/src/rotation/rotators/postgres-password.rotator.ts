import { randomBytes } from 'node:crypto';
import { SecretType } from '@llmops/contracts';
import pg from 'pg';
import { SecretException, SecretExceptionCode } from '../../secrets/exceptions/secret.exception.js';
import type { SecretRecord } from '../../secrets/secret-records.js';
import type { RotationContext, SecretRotator } from '../secret-rotator.js';
import { withPostgres, type DatabaseCredentials } from './postgres-connection.js';
import { scramSha256Verifier } from './scram-sha-256.js';

/** Label of the rotated secret: the two roles that take turns (alternating users), e.g. `["app_blue", "app_green"]`. */
export const USERNAMES_LABEL = 'rotation.usernames';
/** Label of the rotated secret: path of a database_credentials secret (same environment) for a role with CREATEROLE. */
export const ADMIN_SECRET_LABEL = 'rotation.admin_secret';
/**
 * Label of the admin secret: the roles it may set passwords for. Without this allow-list, whoever may write an app
 * secret could name any role (e.g. `postgres`) in its labels and have the admin give it a password they can reveal.
 */
export const MANAGED_USERNAMES_LABEL = 'rotation.managed_usernames';

/** 32 random bytes, base64url: 256 bits in 43 printable ASCII characters. */
const PASSWORD_BYTES = 32;

/** How one rotation of a secret goes, from its labels and current value. */
interface RotationPlan {
  /** The role that gets the new password: the other role of the pair, or the value's own role in single-role mode. */
  target: string;
  alternating: boolean;
  /** Who runs ALTER ROLE; single-role mode without an admin secret lets the role change its own password. */
  executor: DatabaseCredentials;
}

/**
 * Rotates PostgreSQL passwords with `ALTER ROLE`. With two roles in `rotation.usernames` (AWS's "alternating users"),
 * a rotation sets a new password on the role not in use and switches the value to it, so the previous credentials
 * keep working through the overlap; revocation then takes the previous role's password and LOGIN away. Without them
 * (single-role mode) the role's own password changes, which ends the old one at once, so such secrets must have a
 * grace period of 0. Passwords go to the server as SCRAM verifiers, never in plaintext.
 */
export class PostgresPasswordRotator implements SecretRotator {
  readonly name = 'postgres-password';

  supports(secret: SecretRecord, current: string): boolean {
    return secret.type === SecretType.DATABASE_CREDENTIALS && credentialsOf(current)?.engine === 'postgresql';
  }

  async generate(current: string, secret: SecretRecord, context: RotationContext): Promise<string> {
    const credentials = credentialsOf(current)!;
    const plan = await planOf(secret, credentials, context);
    const password = randomBytes(PASSWORD_BYTES).toString('base64url');
    // A role may change its own password but not its own LOGIN attribute; the alternate role needs LOGIN back.
    const attributes = plan.alternating ? 'LOGIN PASSWORD' : 'PASSWORD';
    await withPostgres(plan.executor, `setting a new password on role ${JSON.stringify(plan.target)}`, async (client) => {
      await client.query(`ALTER ROLE ${pg.escapeIdentifier(plan.target)} WITH ${attributes} ${pg.escapeLiteral(scramSha256Verifier(password))}`);
    });
    return JSON.stringify({ ...credentials, username: plan.target, password });
  }

  async test(candidate: string): Promise<void> {
    const credentials = credentialsOf(candidate)!;
    const loggedInAs = await withPostgres(credentials, 'logging in with the new password', async (client) => {
      const { rows } = await client.query<{ user: string }>('SELECT current_user AS "user"');
      return rows[0]?.user;
    });
    if (loggedInAs !== credentials.username) {
      throw new SecretException(SecretExceptionCode.RotationFailed, `logging in as ${JSON.stringify(credentials.username)} gave another role`);
    }
  }

  async activeUsers(previous: string, secret: SecretRecord, context: RotationContext): Promise<number> {
    // In single-role mode old and new password share the role, so its sessions say nothing about the old one.
    if (secret.labels[USERNAMES_LABEL] === undefined) return 0;
    const credentials = credentialsOf(previous)!;
    const plan = await planOf(secret, credentials, context);
    return withPostgres(plan.executor, `counting the sessions of role ${JSON.stringify(credentials.username)}`, async (client) => {
      const { rows } = await client.query<{ sessions: number }>(
        'SELECT count(*)::int AS sessions FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()',
        [credentials.username],
      );
      return rows[0]?.sessions ?? 0;
    });
  }

  async revoke(previous: string, current: string, secret: SecretRecord, context: RotationContext): Promise<void> {
    const previousCredentials = credentialsOf(previous)!;
    if (previousCredentials.username === credentialsOf(current)?.username) return; // Single-role mode: generate replaced the password.
    const plan = await planOf(secret, previousCredentials, context);
    if (!plan.alternating) throw misconfigured(secret, `the previous version's role is not the current one, but label ${USERNAMES_LABEL} is gone`);
    // PASSWORD NULL fails every password method; NOLOGIN also stops trust, peer and certificate logins. Open sessions
    // stay: activeUsers waited for them, and ending them needs pg_signal_backend, which the admin need not have.
    await withPostgres(plan.executor, `revoking role ${JSON.stringify(previousCredentials.username)}`, async (client) => {
      await client.query(`ALTER ROLE ${pg.escapeIdentifier(previousCredentials.username)} WITH NOLOGIN PASSWORD NULL`);
    });
  }
}

/**
 * Reads and checks the secret's rotation labels against `credentials` (the value whose role is being replaced or
 * revoked). Misconfiguration is ROTATION_FAILED naming the label, before anything on the server changes.
 */
async function planOf(secret: SecretRecord, credentials: DatabaseCredentials, context: RotationContext): Promise<RotationPlan> {
  const usernames = secret.labels[USERNAMES_LABEL];
  const adminPath = secret.labels[ADMIN_SECRET_LABEL];
  if (adminPath !== undefined && typeof adminPath !== 'string') throw misconfigured(secret, `label ${ADMIN_SECRET_LABEL} must be a secret path`);
  if (usernames === undefined) {
    if ((secret.gracePeriodSeconds ?? 0) > 0) {
      throw misconfigured(
        secret,
        `changing the only role's password ends the old one at once: set grace_period_seconds to 0 or name two roles in label ${USERNAMES_LABEL}`,
      );
    }
    const executor = adminPath === undefined ? credentials : await adminFor(secret, adminPath, [credentials.username], context);
    return { target: credentials.username, alternating: false, executor };
  }
  if (!isRolePair(usernames)) throw misconfigured(secret, `label ${USERNAMES_LABEL} must name two different roles`);
  if (!usernames.includes(credentials.username)) {
    throw misconfigured(secret, `role ${JSON.stringify(credentials.username)} of the value is not one of label ${USERNAMES_LABEL}`);
  }
  if (adminPath === undefined) throw misconfigured(secret, `alternating roles need label ${ADMIN_SECRET_LABEL} naming a role that may ALTER ROLE`);
  const target = usernames.find((username) => username !== credentials.username)!;
  return { target, alternating: true, executor: await adminFor(secret, adminPath, usernames, context) };
}

/** The admin secret's credentials, once it is known to be allowed to set passwords for every one of `roles`. */
async function adminFor(secret: SecretRecord, adminPath: string, roles: readonly string[], context: RotationContext): Promise<DatabaseCredentials> {
  const admin = await context.readSecret(adminPath);
  const credentials = admin.type === SecretType.DATABASE_CREDENTIALS ? credentialsOf(admin.value) : undefined;
  if (credentials?.engine !== 'postgresql') {
    throw misconfigured(secret, `${adminPath} (label ${ADMIN_SECRET_LABEL}) is not a postgresql database_credentials secret`);
  }
  const managed = admin.labels[MANAGED_USERNAMES_LABEL];
  for (const role of roles) {
    if (!Array.isArray(managed) || !managed.includes(role)) {
      throw misconfigured(secret, `${adminPath} may not set passwords for role ${JSON.stringify(role)}: it is not in its label ${MANAGED_USERNAMES_LABEL}`);
    }
    if (role === credentials.username) throw misconfigured(secret, `${adminPath} logs in as ${JSON.stringify(role)} itself, which rotation would lock out`);
  }
  return credentials;
}

function isRolePair(value: unknown): value is [string, string] {
  return Array.isArray(value) && value.length === 2 && value.every((name) => typeof name === 'string' && name.length > 0) && value[0] !== value[1];
}

function misconfigured(secret: SecretRecord, problem: string): SecretException {
  return new SecretException(SecretExceptionCode.RotationFailed, `${secret.path} in ${secret.environment} cannot rotate: ${problem}`);
}

/** The stored value was checked against its type when written; undefined when it is not database credentials. */
function credentialsOf(value: string): DatabaseCredentials | undefined {
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as DatabaseCredentials) : undefined;
  } catch {
    return undefined;
  }
}
