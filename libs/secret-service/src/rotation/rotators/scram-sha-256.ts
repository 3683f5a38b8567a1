import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** PostgreSQL's own choices when it hashes a password (scram_iterations defaults to 4096 from version 16 on). */
const ITERATIONS = 4096;
const SALT_BYTES = 16;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802 / RFC 7677, built as libpq's
 * PQencryptPasswordConn does). `ALTER ROLE … PASSWORD '<verifier>'` stores it as given, so the plaintext never
 * reaches the server's statement log, pg_stat_activity or pg_stat_statements. Only printable ASCII is accepted:
 * SASLprep leaves it unchanged, so no normalisation is needed.
 */
export function scramSha256Verifier(password: string): string {
  if (!PRINTABLE_ASCII.test(password)) throw new Error('a SCRAM verifier is only built for printable ASCII passwords');
  const salt = randomBytes(SALT_BYTES);
  const saltedPassword = pbkdf2Sync(password, salt, ITERATIONS, 32, 'sha256');
  const storedKey = createHash('sha256').update(createHmac('sha256', saltedPassword).update('Client Key').digest()).digest();
  const serverKey = createHmac('sha256', saltedPassword).update('Server Key').digest();
  saltedPassword.fill(0);
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
