import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEnvelope } from '@llmops/contracts';
import { decodeEvent, Outbox } from '@llmops/platform-messaging';
import { createLogger } from '@llmops/platform-observability';
import { openDatabase, type Database } from '@llmops/platform-persistence';
import { createTestDatabase, type TestDatabase } from '@llmops/platform-testing';
import { EnvelopeCipher, LocalKeyring } from '../../envelope/index.js';
import { SECRET_SERVICE_SCHEMA } from '../../migrations/1764000000000-CreateSecrets.js';
import { SECRET_SERVICE_MIGRATIONS } from '../../secret-service.host.js';
import { SecretAccess, type SecretActor } from '../../secrets/secret-access.js';
import { SecretsService } from '../../secrets/secrets.service.js';
import { defaultRotators } from '../rotators/index.js';
import { SecretRotation } from '../secret-rotation.js';
import { SecretRotators } from '../secret-rotator.js';

export { failureOf } from '../../secrets/testing/failure-of.js';

export const TEST_ADMIN: SecretActor = { principal: { id: 'admin-1', type: 'user', roles: ['global-admin'] }, requestId: 'r-rotation' };

/** SecretsService and SecretRotation wired as in production (default rotators) on a fresh database. */
export interface RotationTestBed {
  testDatabase: TestDatabase;
  database: Database;
  secrets: SecretsService;
  rotation: SecretRotation;
  /** Every outbox event of `type` (e.g. `secret.rotated`), oldest first, decoded. */
  events(type: string): Promise<EventEnvelope[]>;
  /** Every outbox envelope as stored, to look for leaked plaintext. */
  rawEvents(): Promise<Buffer[]>;
  close(): Promise<void>;
}

export async function openRotationTestBed(prefix: string): Promise<RotationTestBed> {
  const dataDir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const testDatabase = await createTestDatabase({ prefix });
  const database = await openDatabase({
    service: 'secret-service',
    schema: SECRET_SERVICE_SCHEMA,
    url: testDatabase.url,
    entities: [],
    migrations: SECRET_SERVICE_MIGRATIONS,
  });
  const logger = createLogger({ service: `${prefix}-test`, version: 'test', level: 'silent' });
  const outbox = new Outbox({ source: 'secret-service', schema: SECRET_SERVICE_SCHEMA });
  const access = new SecretAccess(database, outbox, logger);
  const secrets = new SecretsService(database, outbox, new EnvelopeCipher(await LocalKeyring.open({ dataDir })), access);
  const rotation = new SecretRotation(database, outbox, secrets, new SecretRotators(defaultRotators()), access, logger);
  const rawEvents = async (): Promise<Buffer[]> =>
    ((await database.dataSource.query(`SELECT envelope FROM ${SECRET_SERVICE_SCHEMA}.outbox ORDER BY created_at`)) as Array<{ envelope: Buffer }>).map(
      (row) => row.envelope,
    );
  return {
    testDatabase,
    database,
    secrets,
    rotation,
    rawEvents,
    events: async (type) => (await rawEvents()).map((envelope) => decodeEvent(envelope)).filter((event) => event.type === type),
    close: async () => {
      await database.close();
      await testDatabase.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
