import { describe, expect, it } from '@jest/globals';
import { SecretType } from '@llmops/contracts';
import { expectInvalidValue } from './testing/expect-invalid-value.js';
import { maskSecretValue, parseSecretValue } from './secret-value.js';

const PASSWORD = 'correct-horse-battery-staple';
const VALID = { engine: 'postgresql', host: 'db.internal', port: 5432, database: 'llmops', username: 'svc_llmops', password: PASSWORD };

function parseDatabase(fields: Record<string, unknown>): ReturnType<typeof parseSecretValue> {
  return parseSecretValue(SecretType.DATABASE_CREDENTIALS, JSON.stringify(fields));
}

describe('DATABASE_CREDENTIALS secrets', () => {
  it('accepts full credentials and shows everything but the password as facts', () => {
    const parsed = parseDatabase({ ...VALID, sslmode: 'verify-full' });

    expect(JSON.parse(parsed.value)).toEqual({ ...VALID, sslmode: 'verify-full' });
    expect(parsed.facts).toEqual({
      engine: 'postgresql',
      host: 'db.internal',
      port: 5432,
      database: 'llmops',
      username: 'svc_llmops',
      sslmode: 'verify-full',
    });
  });

  it('accepts IPv4 and bracketed IPv6 hosts', () => {
    expect(parseDatabase({ ...VALID, host: '10.0.0.12' }).facts['host']).toBe('10.0.0.12');
    expect(parseDatabase({ ...VALID, host: '[::1]' }).facts['host']).toBe('[::1]');
  });

  it.each([0, 65536, -1, 1.5, '5432'])('refuses port %p', (port) => {
    const message = expectInvalidValue(() => parseDatabase({ ...VALID, port }), 'value.port');

    expect(message).toBe('value.port must be an integer from 1 to 65535');
  });

  it('refuses an unknown engine, naming the allowed ones', () => {
    const message = expectInvalidValue(() => parseDatabase({ ...VALID, engine: 'db2' }), 'value.engine');

    expect(message).toContain('postgresql, mysql');
  });

  it('refuses a host that is not a host name', () => {
    expectInvalidValue(() => parseDatabase({ ...VALID, host: 'db internal' }), 'value.host');
  });

  it.each(['engine', 'host', 'port', 'database', 'username', 'password'])('requires %s', (field) => {
    const fields: Record<string, unknown> = { ...VALID };
    delete fields[field];

    expectInvalidValue(() => parseDatabase(fields), `value.${field}`, [PASSWORD]);
  });

  it('refuses an unknown sslmode', () => {
    expectInvalidValue(() => parseDatabase({ ...VALID, sslmode: 'REQUIRED' }), 'value.sslmode');
  });

  it('masks the password and keeps the rest', () => {
    const masked = maskSecretValue(SecretType.DATABASE_CREDENTIALS, parseDatabase(VALID).value);

    expect(JSON.parse(masked)).toEqual({ ...VALID, password: 'cor…aple' });
  });
});
