import { execFile } from 'node:child_process';
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { leafHash, ReferenceMerkleTree, verifyConsistency, verifyInclusion, verifyTreeHead } from '@llmops/platform-merkle';
import { openDatabase } from '@llmops/platform-persistence';
import { createTestDatabase } from '@llmops/platform-testing';
import { auditLeafData, canonicalEntryOf, type AuditLogRow } from '../audit-logs/audit-entry.js';
import { ensureMonthlyPartitions } from '../audit-logs/audit-partitions.js';
import { AuditRetention, PARTITION_DROPPED } from '../audit-logs/audit-retention.js';
import { ComplianceReporter } from '../audit-logs/compliance-report.js';
import { AuditExceptionCode } from '../audit-logs/exceptions/audit.exception.js';
import { AUDIT_SCHEMA, CreateAuditLogs1763800000000 } from '../migrations/1763800000000-CreateAuditLogs.js';
import { auditEvent, openAuditLogFixture, silentLogger, type AuditLogFixture } from '../testing/audit-log-fixture.js';
import { runVerifyCli } from '../verifier/verify-cli.js';
import type { InclusionProofDocument, TreeHeadDocument } from '../verifier/offline-verifier.js';
import type { StoredTreeHead } from './merkle-log-writer.js';
import type { MerkleLogReader } from './merkle-log-reader.js';

const run = promisify(execFile);

/** Changes the database the way an operator with psql would, behind the service's back. */
async function psql(url: string, sql: string): Promise<void> {
  await run('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql]);
}

function headDocument(head: StoredTreeHead): TreeHeadDocument {
  return {
    tree_size: head.treeSize,
    root_hash: Buffer.from(head.rootHash).toString('base64'),
    timestamp: head.timestamp,
    key_id: head.keyId,
    signature: head.signature.toString('base64'),
  };
}

async function inclusionDocument(reader: MerkleLogReader, entryId: string, treeSize = 0): Promise<InclusionProofDocument> {
  const proof = await reader.inclusionProof(entryId, treeSize);
  return {
    leaf_index: proof.leafIndex,
    tree_size: proof.treeSize,
    leaf_hash: proof.leafHash.toString('base64'),
    audit_path: proof.auditPath.map((hash) => hash.toString('base64')),
    entry: canonicalEntryOf(proof.entry),
    tree_head: proof.treeHead ? headDocument(proof.treeHead) : null,
  };
}

/** Runs the offline verifier CLI on files, as an auditor would; returns its exit status and output. */
async function verifyOffline(files: Record<string, string>, args: (dir: string) => string[]): Promise<{ status: number; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'audit-verify-'));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    const lines: string[] = [];
    const status = await runVerifyCli(args(dir), { out: (line) => lines.push(line), err: (line) => lines.push(line) });
    return { status, output: lines.join('\n') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('Merkle audit log', () => {
  let log: AuditLogFixture;
  let keysPem: string;

  beforeAll(async () => {
    log = await openAuditLogFixture();
    keysPem = log.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  });

  afterAll(async () => {
    await log?.close();
  });

  it('appends batches as consecutive leaves, signs a head per batch, and proves inclusion and consistency', async () => {
    const heads: StoredTreeHead[] = [];
    const events = Array.from({ length: 37 }, (_, i) => auditEvent({ subject: `configs/proofs/k${i}@base` }));
    for (const batch of [events.slice(0, 1), events.slice(1, 8), events.slice(8, 30), events.slice(30)]) {
      heads.push((await log.recorder.recordBatch(batch))!);
    }
    expect(heads.map((head) => head.treeSize)).toEqual([1, 8, 30, 37]);
    for (const head of heads) {
      expect(verifyTreeHead(head, head.signature, log.publicKey)).toBe(true);
      expect(head.keyId).toBe(log.signer.keyId);
    }
    expect(await log.reader.treeHead()).toEqual(heads[3]);
    expect(await log.reader.treeHead(8)).toEqual(heads[1]);

    for (const [index, event] of events.entries()) {
      const proof = await log.reader.inclusionProof(event.id);
      expect(proof.leafIndex).toBe(index);
      expect(proof.leafHash).toEqual(leafHash(auditLeafData(canonicalEntryOf(proof.entry))));
      expect(verifyInclusion(proof.leafHash, index, 37, proof.auditPath, heads[3]!.rootHash)).toBe(true);
    }
    // Every leaf against every older signed head: the ragged right edge differs per size.
    for (const head of heads.slice(0, 3)) {
      for (const [index, event] of events.slice(0, head.treeSize).entries()) {
        const proof = await log.reader.inclusionProof(event.id, head.treeSize);
        expect(proof.treeHead).toEqual(head);
        expect(verifyInclusion(proof.leafHash, index, head.treeSize, proof.auditPath, head.rootHash)).toBe(true);
      }
    }
    await expect(log.reader.inclusionProof(events[20]!.id, 8)).rejects.toMatchObject({ code: AuditExceptionCode.InvalidQuery, field: 'tree_size' });
    const unsigned = await log.reader.inclusionProof(events[2]!.id, 5);
    expect(unsigned.treeHead).toBeUndefined();
    const firstFive = await Promise.all(events.slice(0, 5).map(async (event) => (await log.reader.inclusionProof(event.id)).leafHash));
    expect(verifyInclusion(unsigned.leafHash, 2, 5, unsigned.auditPath, new ReferenceMerkleTree(firstFive).root())).toBe(true);
    for (const [a, b] of [[0, 1], [1, 2], [2, 3], [0, 3]] as const) {
      const first = heads[a]!;
      const second = heads[b]!;
      const proof = await log.reader.consistencyProof(first.treeSize, second.treeSize);
      expect(verifyConsistency(first.treeSize, second.treeSize, first.rootHash, second.rootHash, proof)).toBe(true);
    }
  });

  it('stores a batch\'s duplicates, and events seen before, once', async () => {
    const before = (await log.reader.treeHead()).treeSize;
    const repeated = auditEvent({ subject: 'configs/dups/a@base' });
    const head = await log.recorder.recordBatch([repeated, auditEvent(), repeated]);
    expect(head?.treeSize).toBe(before + 2);
    expect(await log.recorder.recordBatch([repeated])).toBeUndefined();
    expect((await log.reader.treeHead()).treeSize).toBe(before + 2);
  });

  it('answers bad proof requests with errors that say what is wrong', async () => {
    const size = (await log.reader.treeHead()).treeSize;
    await expect(log.reader.inclusionProof('not-a-uuid')).rejects.toMatchObject({ code: AuditExceptionCode.InvalidQuery, field: 'id' });
    await expect(log.reader.inclusionProof('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: AuditExceptionCode.NotFound });
    await expect(log.reader.consistencyProof(5, 3)).rejects.toMatchObject({ code: AuditExceptionCode.InvalidQuery, field: 'first' });
    await expect(log.reader.consistencyProof(1, size + 1)).rejects.toMatchObject({ code: AuditExceptionCode.InvalidQuery, message: expect.stringContaining('exceeds') });
    await expect(log.reader.treeHead(size + 100)).rejects.toMatchObject({ code: AuditExceptionCode.NotFound });
    await expect(log.verifier.verify(size + 1)).rejects.toMatchObject({ code: AuditExceptionCode.InvalidQuery });
  });

  it('hashes sensitive detail fields, keeps them out of the database, and still finds them by value', async () => {
    const event = auditEvent({
      type: 'auth.login_failed',
      subject: 'users/someone',
      payload: { email: 'alice@example.com', reason: 'bad password', nested: { token: 'tok-123456' } },
    });
    await log.recorder.record(event);
    const [row] = (await log.database.dataSource.query(`SELECT details::text AS text FROM ${AUDIT_SCHEMA}.audit_logs WHERE id = $1`, [event.id])) as Array<{ text: string }>;
    expect(row!.text).not.toContain('alice@example.com');
    expect(row!.text).not.toContain('tok-123456');
    expect(row!.text).toContain('bad password');
    const found = await log.query.page({ details: { email: 'alice@example.com' } });
    expect(found.entries.map((entry) => entry.id)).toEqual([event.id]);
    expect(found.entries[0]!.details).toEqual({
      email: log.hasher.hashValue('alice@example.com'),
      reason: 'bad password',
      nested: { token: log.hasher.hashValue('tok-123456') },
    });
    expect((await log.query.page({ details: { email: 'bob@example.com' } })).entries).toEqual([]);
    expect((await log.query.page({ details: { reason: 'bad password' } })).entries.map((entry) => entry.id)).toEqual([event.id]);
  });

  it('lets the offline verifier check an inclusion proof and a consistency proof from files', async () => {
    const events = [auditEvent(), auditEvent()];
    const firstHead = (await log.recorder.recordBatch([events[0]!]))!;
    const secondHead = (await log.recorder.recordBatch([events[1]!]))!;
    const proof = await inclusionDocument(log.reader, events[0]!.id);
    const verified = await verifyOffline({ 'proof.json': JSON.stringify(proof), 'key.pem': keysPem }, (dir) => [
      'inclusion',
      join(dir, 'proof.json'),
      '--keys',
      join(dir, 'key.pem'),
    ]);
    expect(verified).toMatchObject({ status: 0, output: expect.stringContaining('VERIFIED') });

    const consistency = {
      first: firstHead.treeSize,
      second: secondHead.treeSize,
      proof: (await log.reader.consistencyProof(firstHead.treeSize, secondHead.treeSize)).map((hash) => hash.toString('base64')),
    };
    const files = {
      'proof.json': JSON.stringify(consistency),
      'first.json': JSON.stringify({ tree_head: headDocument(firstHead) }),
      'second.json': JSON.stringify(headDocument(secondHead)),
      'key.pem': keysPem,
    };
    const args = (dir: string): string[] => [
      'consistency',
      join(dir, 'proof.json'),
      '--keys',
      join(dir, 'key.pem'),
      '--first-sth',
      join(dir, 'first.json'),
      '--second-sth',
      join(dir, 'second.json'),
    ];
    expect(await verifyOffline(files, args)).toMatchObject({ status: 0 });
    const forged = { ...headDocument(secondHead), root_hash: Buffer.alloc(32, 7).toString('base64') };
    const rejected = await verifyOffline({ ...files, 'second.json': JSON.stringify(forged) }, args);
    expect(rejected.status).toBe(1);
    expect(rejected.output).toContain('invalid signature');
    expect(await verifyOffline({ 'key.pem': keysPem }, (dir) => ['inclusion', join(dir, 'missing.json'), '--keys', join(dir, 'key.pem')])).toMatchObject({ status: 2 });
  });

  it('exports a segment that the offline verifier rebuilds into the signed root, and rejects an edited one', async () => {
    const head = await log.reader.treeHead();
    const { header, entries } = await log.reader.exportSegment(5, 20, head.treeSize);
    const lines = [
      JSON.stringify({
        type: 'header',
        tree_head: headDocument(header.treeHead),
        start: header.start,
        end: header.end,
        left_proof: header.leftProof.map((hash) => hash.toString('base64')),
        right_proof: header.rightProof.map((hash) => hash.toString('base64')),
        pruned_leaves: {},
      }),
    ];
    for await (const entry of entries) lines.push(JSON.stringify({ type: 'entry', leaf_index: entry.leafIndex, ...canonicalEntryOf(entry) }));
    expect(lines).toHaveLength(16);
    const args = (dir: string): string[] => ['segment', join(dir, 'segment.ndjson'), '--keys', join(dir, 'key.pem')];
    expect(await verifyOffline({ 'segment.ndjson': lines.join('\n'), 'key.pem': keysPem }, args)).toMatchObject({ status: 0 });
    const edited = [...lines];
    edited[3] = edited[3]!.replace('"config-manager"', '"someone-else"');
    const rejected = await verifyOffline({ 'segment.ndjson': edited.join('\n'), 'key.pem': keysPem }, args);
    expect(rejected.status).toBe(1);
    expect(rejected.output).toContain('do not rebuild the signed root');
  });

  it('reports rows modified, deleted, inserted and reordered with psql, and their proofs stop verifying', async () => {
    const tampered = await openAuditLogFixture();
    try {
      const events = Array.from({ length: 40 }, (_, i) => auditEvent({ subject: `configs/tamper/k${i}@base` }));
      await tampered.recorder.recordBatch(events.slice(0, 25));
      await tampered.recorder.recordBatch(events.slice(25));
      expect(await tampered.verifier.verify()).toMatchObject({ valid: true, treeSize: 40, treeHeadsChecked: 2, violations: [] });
      const pem = tampered.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const untouchedProof = await inclusionDocument(tampered.reader, events[30]!.id);
      const url = tampered.testDatabase.url;
      const table = `${AUDIT_SCHEMA}.audit_logs`;

      await psql(url, `UPDATE ${table} SET details = '{"version": 4}' WHERE id = '${events[3]!.id}'`);
      await psql(url, `DELETE FROM ${table} WHERE id = '${events[10]!.id}'`);
      await psql(
        url,
        `INSERT INTO ${table} (id, event_type, actor_type, action, source, created_at)
         VALUES ('0b5c1a52-5d1e-4d0e-9b7a-3e3f4a1b2c3d', 'config.updated', 'user', 'updated', 'config-manager', now())`,
      );
      await psql(
        url,
        `UPDATE ${table} SET leaf_index = CASE WHEN id = '${events[20]!.id}' THEN 21 ELSE 20 END
          WHERE id IN ('${events[20]!.id}', '${events[21]!.id}')`,
      );

      const report = await tampered.verifier.verify();
      expect(report.valid).toBe(false);
      expect(report.violations.map(({ index, kind, entryId }) => ({ index, kind, entryId }))).toEqual([
        { index: -1, kind: 'inserted', entryId: '0b5c1a52-5d1e-4d0e-9b7a-3e3f4a1b2c3d' },
        { index: 3, kind: 'modified', entryId: events[3]!.id },
        { index: 10, kind: 'deleted', entryId: undefined },
        { index: 20, kind: 'reordered', entryId: events[21]!.id },
        { index: 21, kind: 'reordered', entryId: events[20]!.id },
      ]);

      const keyFile = { 'key.pem': pem };
      const inclusionArgs = (dir: string): string[] => ['inclusion', join(dir, 'proof.json'), '--keys', join(dir, 'key.pem')];
      expect(await verifyOffline({ ...keyFile, 'proof.json': JSON.stringify(untouchedProof) }, inclusionArgs)).toMatchObject({ status: 0 });
      const modifiedProof = await inclusionDocument(tampered.reader, events[3]!.id);
      const rejected = await verifyOffline({ ...keyFile, 'proof.json': JSON.stringify(modifiedProof) }, inclusionArgs);
      expect(rejected.status).toBe(1);
      expect(rejected.output).toContain('was altered');
    } finally {
      await tampered.close();
    }
  });

  it('reports stored leaves rewritten to match edited rows: the signed roots no longer match', async () => {
    const tampered = await openAuditLogFixture();
    try {
      const events = Array.from({ length: 12 }, () => auditEvent());
      await tampered.recorder.recordBatch(events.slice(0, 6));
      await tampered.recorder.recordBatch(events.slice(6));
      await psql(tampered.testDatabase.url, `UPDATE ${AUDIT_SCHEMA}.audit_logs SET action = 'forged' WHERE id = '${events[8]!.id}'`);
      const [row] = (await tampered.reader.entriesInRange(8, 9)[Symbol.asyncIterator]().next().then((item) => [item.value as AuditLogRow]));
      const forgedLeaf = leafHash(auditLeafData(canonicalEntryOf(row!))).toString('hex');
      await psql(tampered.testDatabase.url, `UPDATE ${AUDIT_SCHEMA}.merkle_nodes SET hash = '\\x${forgedLeaf}' WHERE level = 0 AND index = 8`);
      const report = await tampered.verifier.verify();
      expect(report.valid).toBe(false);
      expect(report.violations).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'tree_head_mismatch', index: 6 }),
          expect.objectContaining({ kind: 'node_mismatch', index: 8 }),
        ]),
      );
    } finally {
      await tampered.close();
    }
  });

  it('keeps old public keys published when the signing key is rotated, and heads of both keys verify', async () => {
    const rotated = await openAuditLogFixture();
    try {
      await rotated.recorder.recordBatch([auditEvent(), auditEvent()]);
      const newKey = generateKeyPairSync('ed25519').privateKey;
      const next = await openAuditLogFixture({ testDatabase: rotated.testDatabase, signingKey: newKey });
      try {
        await next.recorder.recordBatch([auditEvent()]);
        const keys = await next.reader.signingKeys();
        expect(keys.map((key) => [key.keyId, key.retiredAt === null])).toEqual([
          [rotated.signer.keyId, false],
          [next.signer.keyId, true],
        ]);
        const heads = [await next.reader.treeHead(2), await next.reader.treeHead(3)];
        expect(heads.map((head) => head.keyId)).toEqual([rotated.signer.keyId, next.signer.keyId]);
        expect(verifyTreeHead(heads[1]!, heads[1]!.signature, createPublicKey(newKey))).toBe(true);
        expect(await next.verifier.verify()).toMatchObject({ valid: true, treeHeadsChecked: 2 });
      } finally {
        await next.database.close();
      }
    } finally {
      await rotated.close();
    }
  });

  it('hashes entries written before the log was a Merkle tree into it at start', async () => {
    const testDatabase = await createTestDatabase({ prefix: 'audit_backfill' });
    try {
      const legacy = await openDatabase({ service: 'audit-service', schema: AUDIT_SCHEMA, url: testDatabase.url, entities: [], migrations: [CreateAuditLogs1763800000000] });
      for (let i = 0; i < 7; i++) {
        await legacy.dataSource.query(
          `INSERT INTO ${AUDIT_SCHEMA}.audit_logs (id, event_type, actor_type, action, source, created_at, details)
           VALUES (gen_random_uuid(), 'config.updated', 'user', 'updated', 'config-manager', now(), $1)`,
          [JSON.stringify({ version: i })],
        );
      }
      await legacy.close();
      const upgraded = await openAuditLogFixture({ testDatabase });
      try {
        const added = await upgraded.database.dataSource.transaction(async (manager) => upgraded.writer.backfill(manager, await upgraded.writer.lock(manager)));
        expect(added).toBe(7);
        await upgraded.recorder.record(auditEvent());
        expect(await upgraded.verifier.verify()).toMatchObject({ valid: true, treeSize: 8 });
      } finally {
        await upgraded.database.close();
      }
    } finally {
      await testDatabase.drop();
    }
  });

  it('drops partitions past retention, archives them, records the drop in the log, and stays verifiable', async () => {
    const retained = await openAuditLogFixture();
    const archiveDir = await mkdtemp(join(tmpdir(), 'audit-archive-'));
    try {
      const old = new Date(Date.UTC(2017, 2, 15));
      await retained.recorder.recordBatch([auditEvent({ time: new Date() }), auditEvent({ time: old }), auditEvent({ time: old }), auditEvent({ time: new Date() })]);
      await ensureMonthlyPartitions(retained.database.dataSource, old, 0);
      const retention = new AuditRetention(retained.database, retained.recorder, silentLogger, { retentionDays: 2557, archiveDir });
      expect(await retention.run(new Date(Date.UTC(2026, 10, 1)))).toEqual(['audit_logs_2017_03']);

      const archived = (await readFile(join(archiveDir, 'audit_logs_2017_03.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { leaf_index: number });
      expect(archived.map((line) => line.leaf_index)).toEqual([1, 2]);
      const drop = await retained.query.page({ eventType: PARTITION_DROPPED });
      expect(drop.entries[0]).toMatchObject({ leafIndex: 4, resourceId: 'audit_logs_2017_03', details: expect.objectContaining({ entries: 2, first_leaf_index: 1, last_leaf_index: 2 }) });
      expect(await retained.verifier.verify()).toMatchObject({ valid: true, treeSize: 5, entriesPruned: 2, violations: [] });
      expect(await retention.run(new Date(Date.UTC(2026, 10, 1)))).toEqual([]);

      const { header } = await retained.reader.exportSegment(0, 0, 0);
      expect([...header.prunedLeaves.keys()]).toEqual([1, 2]);
    } finally {
      await rm(archiveDir, { recursive: true, force: true });
      await retained.close();
    }
  });

  it('summarizes authentication failures, denials, permission changes, secret access and config changes', async () => {
    const reported = await openAuditLogFixture();
    try {
      const at = new Date(Date.UTC(2026, 5, 10, 12));
      await reported.recorder.recordBatch([
        auditEvent({ type: 'auth.login_failed', actorId: 'mallory', time: at }),
        auditEvent({ type: 'auth.login_failed', actorId: 'mallory', time: at }),
        auditEvent({ type: 'auth.login_failed', actorId: 'bob', time: at }),
        auditEvent({ type: 'authz.denied', actorId: 'bob', time: at }),
        auditEvent({ type: 'api_key.created', actorId: 'alice', time: at }),
        auditEvent({ type: 'secret.revealed', actorId: 'alice', time: at }),
        auditEvent({ type: 'config.updated', actorId: 'alice', time: at }),
        auditEvent({ type: 'config.updated', actorId: 'alice', time: new Date(Date.UTC(2026, 7, 1)) }),
      ]);
      const report = await new ComplianceReporter(reported.database).report(new Date(Date.UTC(2026, 5, 1)), new Date(Date.UTC(2026, 6, 1)));
      expect(report.totalEvents).toBe(7);
      const section = (name: string) => report.sections.find((candidate) => candidate.name === name)!;
      expect(section('authentication_failures')).toEqual({
        name: 'authentication_failures',
        total: 3,
        byEventType: [{ key: 'auth.login_failed', count: 3 }],
        topActors: [{ key: 'mallory', count: 2 }, { key: 'bob', count: 1 }],
      });
      expect(section('authorization_denied').total).toBe(1);
      expect(section('permission_changes').total).toBe(1);
      expect(section('secret_access').total).toBe(1);
      expect(section('configuration_changes').total).toBe(1);
      await expect(new ComplianceReporter(reported.database).report(at, at)).rejects.toMatchObject({ code: AuditExceptionCode.InvalidQuery });
    } finally {
      await reported.close();
    }
  });
});
