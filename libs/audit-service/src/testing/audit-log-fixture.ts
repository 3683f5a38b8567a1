import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { EventEnvelopeSchema, type EventEnvelope } from '@llmops/contracts';
import { createLogger } from '@llmops/platform-observability';
import { openDatabase, type Database } from '@llmops/platform-persistence';
import { createTestDatabase, type TestDatabase } from '@llmops/platform-testing';
import { DEFAULT_SENSITIVE_DETAIL_FIELDS } from '../audit-service.env.js';
import { AuditLogQuery } from '../audit-logs/audit-log-query.js';
import { AuditLogRecorder } from '../audit-logs/audit-log-recorder.js';
import { SensitiveDetailHasher } from '../audit-logs/sensitive-detail-hasher.js';
import { AUDIT_MIGRATIONS } from '../audit-service.host.js';
import { IntegrityVerifier } from '../merkle-log/integrity-verifier.js';
import { MerkleLogReader } from '../merkle-log/merkle-log-reader.js';
import { MerkleLogWriter } from '../merkle-log/merkle-log-writer.js';
import { TreeHeadSigner } from '../merkle-log/tree-head-signer.js';
import { AUDIT_SCHEMA } from '../migrations/1763800000000-CreateAuditLogs.js';

/** The audit log's parts on a database of their own, as the service wires them. */
export interface AuditLogFixture {
  testDatabase: TestDatabase;
  database: Database;
  signer: TreeHeadSigner;
  publicKey: KeyObject;
  hasher: SensitiveDetailHasher;
  writer: MerkleLogWriter;
  recorder: AuditLogRecorder;
  reader: MerkleLogReader;
  verifier: IntegrityVerifier;
  query: AuditLogQuery;
  close(): Promise<void>;
}

export const silentLogger = createLogger({ service: 'audit-test', version: 'test', level: 'silent' });

export async function openAuditLogFixture(options: { testDatabase?: TestDatabase; signingKey?: KeyObject; hmacKey?: Buffer } = {}): Promise<AuditLogFixture> {
  const testDatabase = options.testDatabase ?? (await createTestDatabase({ prefix: 'audit' }));
  const database = await openDatabase({
    service: 'audit-service',
    schema: AUDIT_SCHEMA,
    url: testDatabase.url,
    entities: [],
    migrations: AUDIT_MIGRATIONS,
  });
  const signingKey = options.signingKey ?? generateKeyPairSync('ed25519').privateKey;
  const publicKey = createPublicKey(signingKey);
  const signer = new TreeHeadSigner(signingKey, publicKey);
  await database.dataSource.transaction((manager) => signer.publish(manager));
  const hasher = new SensitiveDetailHasher(options.hmacKey ?? randomBytes(32), DEFAULT_SENSITIVE_DETAIL_FIELDS);
  const writer = new MerkleLogWriter(signer);
  const recorder = new AuditLogRecorder(database, writer, hasher, silentLogger);
  return {
    testDatabase,
    database,
    signer,
    publicKey,
    hasher,
    writer,
    recorder,
    reader: new MerkleLogReader(database),
    verifier: new IntegrityVerifier(database),
    query: new AuditLogQuery(database, hasher),
    close: async () => {
      await database.close();
      if (!options.testDatabase) await testDatabase.drop();
    },
  };
}

export interface TestEventFields {
  id?: string;
  type?: string;
  source?: string;
  subject?: string;
  time?: Date;
  actorId?: string;
  payload?: Record<string, unknown>;
}

export function auditEvent(fields: TestEventFields = {}): EventEnvelope {
  return create(EventEnvelopeSchema, {
    id: fields.id ?? randomUUID(),
    type: fields.type ?? 'config.updated',
    source: fields.source ?? 'config-manager',
    subject: fields.subject ?? 'configs/acme/app/model@production',
    time: timestampFromDate(fields.time ?? new Date()),
    actor: { id: fields.actorId ?? 'user-1', type: 'user', ipAddress: '10.0.0.7', userAgent: 'curl/8' },
    payload: (fields.payload ?? { version: 3 }) as never,
    correlationId: 'req-1',
  });
}
