import { canonicalJson, JsonObjectReader, parseJsonObject, type JsonObject } from './json-object-reader.js';
import type { SecretTypeDefinition } from './secret-type-definition.js';

export const DATABASE_ENGINES = ['postgresql', 'mysql', 'mariadb', 'sqlserver', 'oracle', 'mongodb'] as const;
/** libpq's names, used for every engine; the client that connects maps them to its driver's options. */
export const DATABASE_SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

const HOST_PATTERN = /^[A-Za-z0-9._:[\]-]{1,253}$/;

export const databaseCredentialsSecretType: SecretTypeDefinition = {
  parse(value) {
    const reader = new JsonObjectReader(parseJsonObject(value, '{engine, host, port, database, username, password, sslmode?}'));
    reader.assertKnownFields(['engine', 'host', 'port', 'database', 'username', 'password', 'sslmode']);
    const engine = reader.requiredOneOf('engine', DATABASE_ENGINES);
    const host = reader.requiredString('host', {
      pattern: HOST_PATTERN,
      patternDescription: 'a host name or IP address',
    });
    const port = reader.requiredInteger('port', 1, 65535);
    const database = reader.requiredString('database');
    const username = reader.requiredString('username');
    const password = reader.requiredString('password');
    const sslmode = reader.optionalOneOf('sslmode', DATABASE_SSL_MODES);

    const stored: JsonObject = { engine, host, port, database, username, password };
    const facts: Record<string, string | number> = { engine, host, port, database, username };
    if (sslmode !== undefined) stored['sslmode'] = facts['sslmode'] = sslmode;
    return { value: canonicalJson(stored), facts };
  },
  maskPlan: { engine: 'keep', host: 'keep', port: 'keep', database: 'keep', username: 'keep', sslmode: 'keep' },
};
