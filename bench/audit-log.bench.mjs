// The audit log's two costs, each against a floor measured in the same run on the same PostgreSQL:
// (a) durable appends through the real service (JetStream backlog → batches → rows + Merkle nodes + signed tree head
//     per batch, acked after commit) against plain single-row INSERTs of the same rows from 16 connections;
// (b) inclusion-proof latency at 1,000,000 entries, service side against a bare primary-key SELECT of one entry and
//     over gRPC against a bare grpc-js echo.
import { createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { AuditService, EventEnvelopeSchema } from '@llmops/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { principalToMetadata } from '@llmops/platform-auth';
import { createGrpcClient } from '@llmops/platform-grpc';
import { verifyInclusion } from '@llmops/platform-merkle';
import { encodeEvent, JetStreamBus } from '@llmops/platform-messaging';
import { createLogger } from '@llmops/platform-observability';
import { openDatabase } from '@llmops/platform-persistence';
import pg from 'pg';
import { Registry } from 'prom-client';
import { ECHO_PATH } from './lib/grpc-echo-server.mjs';
import { createBenchDatabase, freePort, percentiles, root, startProcess, waitForHttp, writeResult } from './lib/harness.mjs';

const distOf = (path) => import(join(root, 'libs/audit-service/dist', path));
const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const BACKLOG = Number(process.env.BENCH_AUDIT_EVENTS ?? 50_000);
const TREE_SIZE = Number(process.env.BENCH_AUDIT_TREE_SIZE ?? 1_000_000);
const PROOFS = 2_000;
const PLAIN_CONNECTIONS = 16;

function event(index) {
  return create(EventEnvelopeSchema, {
    id: randomUUID(),
    type: 'config.updated',
    source: 'config-manager',
    subject: `configs/bench/app/key${index % 1000}@production`,
    time: timestampFromDate(new Date()),
    actor: { id: `user-${index % 50}`, type: 'user', ipAddress: '10.0.0.7', userAgent: 'bench/1' },
    payload: { version: index, previous_version: index - 1, environment: 'production' },
    correlationId: `req-${index}`,
  });
}

async function pool(count, concurrency, work) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await work(next++);
  }));
}

async function deleteStream(name) {
  const connection = await connect({ servers: NATS_URL });
  try {
    await (await jetstreamManager(connection)).streams.delete(name).catch(() => undefined);
  } finally {
    await connection.close();
  }
}

/** Latency percentiles of `work` over every item, after a warm-up on the first 200. */
async function sample(items, work) {
  for (const item of items.slice(0, 200)) await work(item);
  const latencies = [];
  for (const item of items) {
    const started = performance.now();
    await work(item);
    latencies.push(performance.now() - started);
  }
  return percentiles(latencies);
}

/** The transport's own floor: a unary call to a grpc-js server in another process that does nothing but answer. */
async function grpcEchoFloor(calls) {
  const port = await freePort();
  const server = startProcess(['bench/lib/grpc-echo-server.mjs'], { PORT: String(port) });
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const identity = (value) => value;
  const payload = Buffer.alloc(1_500, 1);
  const echo = () =>
    new Promise((resolve, reject) =>
      client.makeUnaryRequest(ECHO_PATH, identity, identity, payload, new Metadata(), (error, value) => (error ? reject(error) : resolve(value))),
    );
  try {
    await new Promise((resolve, reject) => client.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())));
    return await sample(Array.from({ length: calls }), echo);
  } finally {
    client.close();
    await server.stop();
  }
}

async function treeSize(client) {
  const { rows } = await client.query('SELECT tree_size FROM audit_service.merkle_tree_state');
  return Number(rows[0]?.tree_size ?? 0);
}

export async function run() {
  const database = await createBenchDatabase();
  if (!database) throw new Error('the audit-log benchmark needs the PostgreSQL at 127.0.0.1:5432');
  const dataDir = await mkdtemp(join(tmpdir(), 'llmops-bench-audit-'));
  const stamp = Date.now();
  const stream = `BENCH_AUDIT_${stamp}`;
  const subjectRoot = `benchaudit${stamp}`;
  const publisher = await JetStreamBus.connect({ url: NATS_URL, stream, subjectRoot, name: 'bench-audit' });
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const grpcPort = await freePort();
  const opsPort = await freePort();
  let service;
  try {
    // (a) A backlog in JetStream, then the service drains it: the rate at which leaves are committed.
    await pool(BACKLOG, 256, (index) => {
      const envelope = event(index);
      return publisher.publish(`${subjectRoot}.config-manager.config.updated`, encodeEvent(envelope), envelope.id);
    });
    service = startProcess(['dist/apps/audit-service/main.js'], {
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      NATS_URL,
      NATS_STREAM: stream,
      NATS_SUBJECT_ROOT: subjectRoot,
      AUDIT_SERVICE_GRPC_PORT: String(grpcPort),
      AUDIT_SERVICE_OPS_PORT: String(opsPort),
    });
    await waitForHttp(`http://127.0.0.1:${opsPort}/health/ready`, { process: service, timeoutMs: 120_000 });
    let first;
    for (;;) {
      const size = await treeSize(client);
      if (size > 0 && !first) first = { size, at: performance.now() };
      if (size >= BACKLOG) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const merkleSeconds = (performance.now() - first.at) / 1000;
    const merkleRate = (BACKLOG - first.size) / merkleSeconds;
    const { rows: headRows } = await client.query('SELECT count(*) AS heads FROM audit_service.tree_heads');
    const heads = Number(headRows[0].heads);
    console.log(`merkle appends: ${merkleRate.toFixed(0)}/s (${heads} signed tree heads, ${(BACKLOG / heads).toFixed(0)} entries per batch)`);

    await client.query('CREATE SCHEMA bench_plain');
    await client.query('CREATE TABLE bench_plain.audit_logs (LIKE audit_service.audit_logs INCLUDING ALL)');
    const plainClients = await Promise.all(
      Array.from({ length: PLAIN_CONNECTIONS }, async () => {
        const connection = new pg.Client({ connectionString: database.url });
        await connection.connect();
        return connection;
      }),
    );
    const plainStarted = performance.now();
    let connectionIndex = 0;
    await Promise.all(
      plainClients.map(async (connection) => {
        const share = Math.ceil(BACKLOG / PLAIN_CONNECTIONS);
        const offset = connectionIndex++ * share;
        for (let index = offset; index < Math.min(BACKLOG, offset + share); index++) {
          const envelope = event(index);
          await connection.query(
            `INSERT INTO bench_plain.audit_logs (id, event_type, actor_id, actor_type, resource_type, resource_id, action, details,
               ip_address, user_agent, source, correlation_id, created_at, leaf_index)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
            [envelope.id, envelope.type, envelope.actor.id, envelope.actor.type, 'configs', envelope.subject.slice(8), 'updated',
              JSON.stringify(envelope.payload), envelope.actor.ipAddress, envelope.actor.userAgent, envelope.source, envelope.correlationId,
              new Date().toISOString(), index],
          );
        }
      }),
    );
    const plainRate = BACKLOG / ((performance.now() - plainStarted) / 1000);
    await Promise.all(plainClients.map((connection) => connection.end()));
    console.log(`plain single-row INSERTs (${PLAIN_CONNECTIONS} connections): ${plainRate.toFixed(0)}/s`);

    // (b) Grow the same log to TREE_SIZE through the recorder (the service's own code, with its key), then prove.
    const growStarted = performance.now();
    const [{ MerkleLogWriter }, { TreeHeadSigner }, { AuditLogRecorder }, { SensitiveDetailHasher }, { AUDIT_MIGRATIONS }, { MerkleLogReader }] = await Promise.all([
      distOf('merkle-log/merkle-log-writer.js'),
      distOf('merkle-log/tree-head-signer.js'),
      distOf('audit-logs/audit-log-recorder.js'),
      distOf('audit-logs/sensitive-detail-hasher.js'),
      distOf('audit-service.host.js'),
      distOf('merkle-log/merkle-log-reader.js'),
    ]);
    const signingKey = createPrivateKey(await readFile(join(dataDir, 'audit-signing-key.pem'), 'utf8'));
    const hmacKey = Buffer.from((await readFile(join(dataDir, 'audit-hmac.key'), 'utf8')).trim(), 'hex');
    const logger = createLogger({ service: 'bench', version: 'bench', level: 'silent' });
    const db = await openDatabase({ service: 'audit-service', schema: 'audit_service', url: database.url, entities: [], migrations: AUDIT_MIGRATIONS, logger });
    const recorder = new AuditLogRecorder(
      db,
      new MerkleLogWriter(new TreeHeadSigner(signingKey, createPublicKey(signingKey))),
      new SensitiveDetailHasher(hmacKey, ['email']),
      logger,
    );
    for (let size = await treeSize(client); size < TREE_SIZE; size = await treeSize(client)) {
      await recorder.recordBatch(Array.from({ length: Math.min(5_000, TREE_SIZE - size) }, (_, i) => event(size + i)));
    }
    const growSeconds = (performance.now() - growStarted) / 1000;
    console.log(`grew the log to ${TREE_SIZE} entries in ${growSeconds.toFixed(0)} s`);

    // A steady-state log has been vacuumed and analyzed; right after a bulk load autovacuum would be measured instead.
    await client.query('VACUUM ANALYZE audit_service.audit_logs, audit_service.merkle_nodes, audit_service.tree_heads');
    const { rows: sampled } = await client.query(`SELECT id FROM audit_service.audit_logs TABLESAMPLE SYSTEM (1) LIMIT ${PROOFS}`);
    const ids = sampled.map((row) => row.id);
    const audit = createGrpcClient(AuditService, { address: `127.0.0.1:${grpcPort}`, registry: new Registry() });
    const metadata = principalToMetadata({ id: 'bench', type: 'user', roles: ['global-admin'] }, 'bench');
    const { treeHead } = await audit.getSignedTreeHead({ treeSize: 0n }, { metadata });
    let invalid = 0;
    const grpcProof = await sample(ids, async (id) => {
      const proof = await audit.getInclusionProof({ entryId: id, treeSize: treeHead.treeSize }, { metadata });
      if (!verifyInclusion(proof.leafHash, Number(proof.leafIndex), Number(proof.treeSize), proof.auditPath, treeHead.rootHash)) invalid++;
    });
    audit.close();
    const reader = new MerkleLogReader(db);
    const serviceProof = await sample(ids, (id) => reader.inclusionProof(id, Number(treeHead.treeSize)));
    await db.close();
    const selectById = await sample(ids, (id) => client.query('SELECT * FROM audit_service.audit_logs WHERE id = $1', [id]));
    const echo = await grpcEchoFloor(ids.length);
    console.log(`inclusion proof at ${treeHead.treeSize} entries: service side p50 ${serviceProof.p50} / p99 ${serviceProof.p99} ms (SELECT by id ${selectById.p50} / ${selectById.p99}); over gRPC p50 ${grpcProof.p50} / p99 ${grpcProof.p99} ms (bare grpc-js echo ${echo.p50} / ${echo.p99}); ${invalid} invalid`);

    const result = {
      benchmark: 'audit-log',
      storage: 'PostgreSQL 15 on this machine',
      appends: {
        events: BACKLOG,
        merkle_appends_per_second: merkleRate,
        signed_tree_heads: heads,
        plain_inserts_per_second: plainRate,
        plain_connections: PLAIN_CONNECTIONS,
        ratio_vs_plain: merkleRate / plainRate,
      },
      proofs: {
        tree_size: Number(treeHead.treeSize),
        samples: ids.length,
        invalid,
        service_side_ms: serviceProof,
        select_by_id_ms: selectById,
        service_p99_ratio_vs_select: serviceProof.p99 / selectById.p99,
        over_grpc_ms: grpcProof,
        grpc_echo_ms: echo,
        grpc_p99_ratio_vs_echo: grpcProof.p99 / echo.p99,
      },
    };
    await writeResult(
      'audit-log',
      result,
      `# Audit log: durable Merkle appends and inclusion proofs

| measure | audit log | same-run floor | ratio |
|---|---:|---:|---:|
| durable appends/s (JetStream → rows + tree nodes + signed head per batch, acked after commit) | ${merkleRate.toFixed(0)} | ${plainRate.toFixed(0)} plain single-row INSERTs/s (${PLAIN_CONNECTIONS} connections) | ${(merkleRate / plainRate).toFixed(2)} |
| inclusion proof at ${Number(treeHead.treeSize).toLocaleString('en')} entries, service side (entry by id, then its subtree hashes and signed head side by side; prepared statements), p50 / p99 ms | ${serviceProof.p50} / ${serviceProof.p99} | ${selectById.p50} / ${selectById.p99} (SELECT one entry by id) | ${(serviceProof.p99 / selectById.p99).toFixed(1)} (p99) |
| inclusion proof over gRPC (a client asking audit-service), p50 / p99 ms | ${grpcProof.p50} / ${grpcProof.p99} | ${echo.p50} / ${echo.p99} (bare grpc-js echo in another process) | ${(grpcProof.p99 / echo.p99).toFixed(1)} (p99) |

${BACKLOG.toLocaleString('en')} events drained from a JetStream backlog by the audit-service app, ${heads} signed tree heads
(${(BACKLOG / heads).toFixed(0)} entries per batch); ${ids.length} proofs for random entries, each verified (${invalid} invalid). The gRPC row adds the client's and the
service's gRPC stacks (deadline, breaker, metrics, request context, authorization) on the same 2 cores as PostgreSQL;
the echo row is what a cross-process grpc-js call alone costs here.
Targets: ≥ 5,000 appends/s, proof p99 < 5 ms. ${(await import('node:os')).cpus().length} cores, one PostgreSQL 15, NATS 2.9 on the same machine.`,
    );
  } finally {
    await service?.stop();
    await publisher.close();
    await deleteStream(stream);
    await client.end();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
