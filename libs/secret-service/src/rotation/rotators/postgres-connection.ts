import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { SecretException, SecretExceptionCode } from '../../secrets/exceptions/secret.exception.js';

/** A database_credentials value (see secret-types/README.md). */
export interface DatabaseCredentials {
  engine: string;
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
  sslmode?: string;
}

/** A rotation waits on the secret's row lock, so an unreachable server must fail it quickly. */
const CONNECT_TIMEOUT_MS = 5_000;
const STATEMENT_TIMEOUT_MS = 10_000;
const NO_TLS_ON_SERVER = 'The server does not support SSL connections';

/**
 * Connects with `credentials`, runs `work` and disconnects. Any failure becomes ROTATION_FAILED saying what was being
 * done, where and as whom, plus the SQLSTATE or socket error code, never the server's message (which may quote a
 * statement) or a password.
 */
export async function withPostgres<T>(credentials: DatabaseCredentials, purpose: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const where = `${credentials.host}:${credentials.port}/${credentials.database} as ${JSON.stringify(credentials.username)}`;
  let client: pg.Client;
  try {
    client = await connect(credentials, tlsOptionsOf(credentials.sslmode));
  } catch (error) {
    throw rotationFailed(`${purpose}: connecting to ${where} failed`, error);
  }
  try {
    return await work(client);
  } catch (error) {
    if (error instanceof SecretException) throw error;
    throw rotationFailed(`${purpose} on ${where} failed`, error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function connect(credentials: DatabaseCredentials, ssl: false | ConnectionOptions, preferred = credentials.sslmode ?? 'prefer'): Promise<pg.Client> {
  const client = new pg.Client({
    host: credentials.host,
    port: credentials.port,
    database: credentials.database,
    user: credentials.username,
    password: credentials.password,
    ssl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: STATEMENT_TIMEOUT_MS + 1_000,
    application_name: 'secret-service-rotator',
  });
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    // libpq's `prefer` (its default) falls back to a plain connection when the server offers no TLS at all.
    if (preferred === 'prefer' && ssl !== false && error instanceof Error && error.message === NO_TLS_ON_SERVER) {
      return connect(credentials, false, preferred);
    }
    throw error;
  }
}

/** libpq's sslmode in node-postgres terms. */
function tlsOptionsOf(sslmode: string | undefined): false | ConnectionOptions {
  switch (sslmode) {
    case 'disable':
    case 'allow': // libpq tries a plain connection first, which is what `allow` then uses.
      return false;
    case 'verify-ca':
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true };
    default: // prefer, require: encrypted, certificate not checked, as in libpq without a root certificate.
      return { rejectUnauthorized: false };
  }
}

function rotationFailed(message: string, error: unknown): SecretException {
  const code = (error as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown error';
  return new SecretException(SecretExceptionCode.RotationFailed, `${message} (${reason})`);
}
