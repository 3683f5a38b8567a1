import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SecretType } from '@llmops/contracts';
import { Outbox } from '@llmops/platform-messaging';
import { createLogger } from '@llmops/platform-observability';
import { openDatabase, type Database } from '@llmops/platform-persistence';
import { createTestDatabase, type TestDatabase } from '@llmops/platform-testing';
import { Registry } from 'prom-client';
import { EnvelopeCipher, LocalKeyring } from '../envelope/index.js';
import { SECRET_SERVICE_SCHEMA } from '../migrations/1764000000000-CreateSecrets.js';
import { SECRET_SERVICE_MIGRATIONS } from '../secret-service.host.js';
import { SecretAccess, type SecretActor } from '../secrets/secret-access.js';
import { SecretsService } from '../secrets/secrets.service.js';
import { EncryptionKeys } from './encryption-keys.js';

const admin: SecretActor = { principal: { id: 'admin-1', type: 'user', roles: ['global-admin'] }, requestId: 'r-keys' };
const logger = createLogger({ service: 'encryption-keys-test', version: 'test', level: 'silent' });
const [one, two] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];

describe('EncryptionKeys across a rolling key rotation (SECRET_KEYRING_CURRENT_VERSION)', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  const outbox = new Outbox({ source: 'secret-service', schema: SECRET_SERVICE_SCHEMA });

  beforeAll(async () => {
    testDatabase = await createTestDatabase({ prefix: 'encryption_keys' });
    database = await openDatabase({ service: 'secret-service', schema: SECRET_SERVICE_SCHEMA, url: testDatabase.url, entities: [], migrations: SECRET_SERVICE_MIGRATIONS });
  });

  afterAll(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  /** A replica of secret-service as its keyring configuration makes it. */
  async function replica(keyring: string, currentVersion?: number) {
    const provider = await LocalKeyring.open({ dataDir: '/nonexistent', keyring, currentVersion });
    const cipher = new EnvelopeCipher(provider);
    return {
      secrets: new SecretsService(database, outbox, cipher, new SecretAccess(database, outbox, logger)),
      keys: new EncryptionKeys(database, outbox, provider, cipher, logger, new Registry()),
    };
  }

  it('moves data keys forward only once a replica is pinned to the new version, and names versions no replica holds', async () => {
    // Step 1: version 2 is listed everywhere but not current; a write still wraps with version 1.
    const stepOne = await replica(`1:${one},2:${two}`, 1);
    await stepOne.secrets.set(admin, { path: 'rolling/a', environment: 'production', type: SecretType.GENERIC, value: 'a-value' });
    expect(await stepOne.keys.rewrapPending()).toBe(0);
    // Step 2: pinned to 2 (the default, the highest): the rewrap moves version 1's data keys up, reads keep working.
    const stepTwo = await replica(`1:${one},2:${two}`);
    expect(await stepTwo.keys.rewrapPending()).toBe(1);
    expect((await stepOne.secrets.get(admin, { path: 'rolling/a', environment: 'production', reveal: true })).value).toBe('a-value');
    // A replica still at step 1 never moves them back.
    expect(await stepOne.keys.rewrapPending()).toBe(0);
    // One that lost version 2 from its keyring says so at start-up instead of failing each read in silence.
    const stale = await replica(`1:${one}`);
    expect(await stale.keys.reportUnknownKeyVersions()).toEqual([2]);
    expect(await stepTwo.keys.reportUnknownKeyVersions()).toEqual([]);
  });
});
