import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { infrastructureEnv, port } from './env-fields.js';
import { EnvValidationError, parseEnv, sensitive } from './env-schema.js';

const schema = z.object({
  ...infrastructureEnv,
  GATEWAY_PORT: port(8080),
  JWT_PRIVATE_KEY: sensitive(z.string().min(20, 'must be a PEM private key')).optional(),
});

function failure(source: Record<string, string>): EnvValidationError {
  try {
    parseEnv('api-gateway', schema, source);
  } catch (error) {
    if (error instanceof EnvValidationError) return error;
    throw error;
  }
  throw new Error('expected the environment to be rejected');
}

describe('parseEnv', () => {
  it('applies defaults and treats empty strings as unset', () => {
    const env = parseEnv('api-gateway', schema, { GATEWAY_PORT: '', DATABASE_URL: ' ' });
    expect(env.GATEWAY_PORT).toBe(8080);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.LOG_LEVEL).toBe('info');
  });

  it('coerces and accepts valid values', () => {
    const env = parseEnv('api-gateway', schema, {
      GATEWAY_PORT: '9090',
      DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
      NATS_URL: 'nats://127.0.0.1:4222',
    });
    expect(env.GATEWAY_PORT).toBe(9090);
    expect(env.NATS_URL).toBe('nats://127.0.0.1:4222');
  });

  it('names every bad variable in one message', () => {
    const error = failure({ GATEWAY_PORT: '70000', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
    expect(error.issues.map((i) => i.variable).sort()).toEqual(['DATABASE_URL', 'GATEWAY_PORT', 'LOG_LEVEL']);
    expect(error.message).toContain('Invalid environment for api-gateway');
    expect(error.message).toMatch(/DATABASE_URL: must be a URL with scheme postgres or postgresql \(got "mysql:\/\/x"\)/);
  });

  it('never echoes the value of a sensitive variable', () => {
    const error = failure({ JWT_PRIVATE_KEY: 'hunter2-secret' });
    expect(error.issues[0]?.variable).toBe('JWT_PRIVATE_KEY');
    expect(error.message).toContain('value hidden');
    expect(error.message).not.toContain('hunter2');
  });
});
