// Envelope encryption (fresh data key per value, AES-256-GCM with the binding as AAD, data key wrapped by the local
// keyring's KEK) against the physical floor: one raw AES-256-GCM encryption in node:crypto with a fixed key, in the
// same run. Sealing costs two AES-GCM operations plus 32 random bytes; opening costs two AES-GCM decryptions.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createBenchDatabase, freePort, load, root, startProcess, waitForHttp, writeResult } from './lib/harness.mjs';

const SIZES = [64, 1024, 16 * 1024];
const DURATION_MS = 2_000;

export async function run() {
  const { EnvelopeCipher, LocalKeyring } = await import(pathToFileURL(join(root, 'libs/secret-service/dist/envelope/index.js')).href);
  const dataDir = await mkdtemp(join(tmpdir(), 'llmops-envelope-bench-'));
  try {
    const cipher = new EnvelopeCipher(await LocalKeyring.open({ dataDir }));
    const rows = [];
    for (const size of SIZES) {
      const plaintext = randomBytes(size);
      const binding = { path: 'production:bench/secret', version: 1 };
      const rawKey = randomBytes(32);
      const sealed = await cipher.seal(plaintext, binding);
      const raw = rawSeal(rawKey, plaintext);
      const row = {
        bytes: size,
        envelope_seal_per_s: await rate(() => cipher.seal(plaintext, binding)),
        raw_encrypt_per_s: await rate(async () => rawSeal(rawKey, plaintext)),
        envelope_open_per_s: await rate(async () => (await cipher.open(sealed, binding)).fill(0)),
        raw_decrypt_per_s: await rate(async () => rawOpen(rawKey, raw)),
      };
      row.seal_ratio = row.envelope_seal_per_s / row.raw_encrypt_per_s;
      row.open_ratio = row.envelope_open_per_s / row.raw_decrypt_per_s;
      rows.push(row);
      console.log(row);
    }
    const reads = await gatewaySecretReads(dataDir);
    const result = { benchmark: 'secret-envelope', cores: cpus().length, duration_ms_per_measure: DURATION_MS, rows, gateway_reads: reads };
    const table = rows
      .map(
        (row) =>
          `| ${row.bytes} | ${fmt(row.envelope_seal_per_s)} | ${fmt(row.raw_encrypt_per_s)} | ${row.seal_ratio.toFixed(2)} | ${fmt(row.envelope_open_per_s)} | ${fmt(row.raw_decrypt_per_s)} | ${row.open_ratio.toFixed(2)} |`,
      )
      .join('\n');
    await writeResult(
      'secret-envelope',
      result,
      `# Envelope encryption vs raw AES-256-GCM (node:crypto), same run

| value bytes | envelope seal/s | raw encrypt/s | ratio | envelope open/s | raw decrypt/s | ratio |
|---:|---:|---:|---:|---:|---:|---:|
${table}

Envelope = fresh 256-bit data key + 96-bit nonce per value, AES-256-GCM with (environment:path, version) as AAD, the
data key wrapped by the local keyring's KEK (a second AES-256-GCM) and zeroed after use. Raw = one AES-256-GCM
operation with a fixed key and a random nonce. One thread, ${cpus().length} cores, ${DURATION_MS / 1000} s per measure.
The ratio is the price of a key per value; the absolute rate is far above what a secret store needs (a reveal is
dominated by the database and the audit event that commits with it).

## A secret read through the gateway (${reads.storage}; gateway and secret-service as separate processes)

| request | req/s | p50 ms | p99 ms | non-2xx |
|---|---:|---:|---:|---:|
| revealed read (\`?reveal=true\`: decrypt + \`secret.revealed\` event committed before answering) | ${fmt(reads.revealed.requests_per_second)} | ${reads.revealed.latency_ms.p50} | ${reads.revealed.latency_ms.p99} | ${reads.revealed.non_2xx} |
| masked read (metadata + stored mask, no decryption) | ${fmt(reads.masked.requests_per_second)} | ${reads.masked.latency_ms.p50} | ${reads.masked.latency_ms.p99} | ${reads.masked.non_2xx} |
| bare node:http, same body as the revealed read | ${fmt(reads.floor.requests_per_second)} | ${reads.floor.latency_ms.p50} | ${reads.floor.latency_ms.p99} | ${reads.floor.non_2xx} |

${reads.revealed.connections} connections, ${reads.revealed.duration_s} s each. Every reveal is a database transaction that writes its audit event
(fail closed), so reveals are bounded by commits, not by cryptography.`,
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * The gateway and secret-service as separate processes, as deployed (the all-in-one platform would put both on one
 * event loop), on PostgreSQL, Redis and NATS when reachable; authenticated masked and revealed reads.
 */
async function gatewaySecretReads(dataDir) {
  const database = process.env.BENCH_EMBEDDED === '1' ? undefined : await createBenchDatabase();
  const ports = { gateway: await freePort(), secretGrpc: await freePort(), secretOps: await freePort() };
  const shared = {
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    DATA_DIR: join(dataDir, 'services'),
    ...(database
      ? {
          DATABASE_URL: database.url,
          REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
          NATS_URL: process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222',
          NATS_STREAM: 'BENCH_SECRETS',
          NATS_SUBJECT_ROOT: 'bench_secrets',
        }
      : {}),
  };
  const processes = [];
  let bare;
  try {
    const secretService = startProcess(['dist/apps/secret-service/main.js'], {
      ...shared,
      SECRET_SERVICE_GRPC_PORT: String(ports.secretGrpc),
      SECRET_SERVICE_OPS_PORT: String(ports.secretOps),
    });
    processes.push(secretService);
    await waitForHttp(`http://127.0.0.1:${ports.secretOps}/health/ready`, { process: secretService, timeoutMs: 120_000 });
    const gateway = startProcess(['dist/apps/api-gateway/main.js'], {
      ...shared,
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(ports.gateway),
      SECRET_SERVICE_URL: `127.0.0.1:${ports.secretGrpc}`,
      ADMIN_EMAIL: 'bench@llmops.local',
      ADMIN_PASSWORD: 'bench-password-long-enough',
      RATE_LIMIT_PER_MINUTE: '100000000',
    });
    processes.push(gateway);
    const base = `http://127.0.0.1:${ports.gateway}`;
    const env = { ADMIN_EMAIL: 'bench@llmops.local', ADMIN_PASSWORD: 'bench-password-long-enough' };
    await waitForHttp(`${base}/health/live`, { process: gateway, timeoutMs: 120_000 });
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD }),
    }).then((r) => r.json());
    const headers = { authorization: `Bearer ${login.access_token}` };
    const url = `${base}/api/v1/secrets/bench/payments/STRIPE_KEY?env=production`;
    const written = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'api_key', value: { provider: 'custom', key: `sk_live_${'x'.repeat(40)}`, base_url: 'https://payments.example' } }),
    });
    if (!written.ok) throw new Error(`secret write failed: ${written.status} ${await written.text()}`);
    const body = await fetch(`${url}&reveal=true`, { headers }).then((r) => r.text());
    const barePort = await freePort();
    bare = startProcess(['bench/lib/bare-http-server.mjs'], { PORT: String(barePort), BODY: body });
    await waitForHttp(`http://127.0.0.1:${barePort}/`, { process: bare });
    return {
      storage: database ? 'PostgreSQL 15, Redis and NATS on this machine' : 'embedded PGlite',
      revealed: await load('gateway: revealed secret read', { url: `${url}&reveal=true`, headers, duration: 10 }),
      masked: await load('gateway: masked secret read', { url, headers, duration: 10 }),
      floor: await load('bare node:http, same body', { url: `http://127.0.0.1:${barePort}/`, duration: 10 }),
    };
  } finally {
    await bare?.stop();
    for (const child of processes.reverse()) await child.stop();
    await database?.drop();
  }
}

function rawSeal(key, plaintext) {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, ciphertext, tag: cipher.getAuthTag() };
}

function rawOpen(key, { nonce, ciphertext, tag }) {
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

/** Operations per second over DURATION_MS, after a short warm-up. */
async function rate(operation) {
  for (let i = 0; i < 1_000; i++) await operation();
  let count = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(DURATION_MS) * 1_000_000n;
  let now = started;
  while (now < deadline) {
    for (let i = 0; i < 100; i++) await operation();
    count += 100;
    now = process.hrtime.bigint();
  }
  return count / (Number(now - started) / 1e9);
}

function fmt(value) {
  return Math.round(value).toLocaleString('en-US');
}
