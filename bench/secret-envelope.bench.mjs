// Envelope encryption (fresh data key per value, AES-256-GCM with the binding as AAD, data key wrapped by the local
// keyring's KEK) against the physical floor: one raw AES-256-GCM encryption in node:crypto with a fixed key, in the
// same run. Sealing costs two AES-GCM operations plus 32 random bytes; opening costs two AES-GCM decryptions.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root, writeResult } from './lib/harness.mjs';

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
    const result = { benchmark: 'secret-envelope', cores: cpus().length, duration_ms_per_measure: DURATION_MS, rows };
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
dominated by the database and the audit event that commits with it).`,
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
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
