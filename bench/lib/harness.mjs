// Shared benchmark plumbing: child processes, readiness, autocannon runs and result files.
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const resultsDir = join(root, 'bench', 'results');

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Runs a node script (or `command`, e.g. etcd) with its output kept for error messages; stop() sends SIGTERM. */
export function startProcess(args, env = {}, command = process.execPath) {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return {
    child,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

export async function waitForHttp(url, { timeoutMs = 60_000, process: proc } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && proc.child.exitCode !== null) throw new Error(`process exited early:\n${proc.output()}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not become ready in ${timeoutMs} ms${proc ? `:\n${proc.output()}` : ''}`);
}

/** One autocannon run; returns req/s and latency percentiles in ms. */
export async function load(name, { url, headers = {}, method = 'GET', body, connections = 50, duration = 10, pipelining = 1 }) {
  const result = await autocannon({ url, headers, method, body, connections, duration, pipelining });
  const summary = {
    name,
    requests_per_second: result.requests.average,
    latency_ms: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    non_2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    connections,
    duration_s: duration,
  };
  console.log(`${name}: ${summary.requests_per_second.toFixed(0)} req/s, p50 ${summary.latency_ms.p50} ms, p99 ${summary.latency_ms.p99} ms, non-2xx ${summary.non_2xx}`);
  return summary;
}

export async function writeResult(name, result, markdown) {
  const machine = { node: process.version, platform: process.platform, arch: process.arch, cpus: (await import('node:os')).cpus().length };
  await writeFile(join(resultsDir, `${name}.json`), JSON.stringify({ ...result, machine, date: new Date().toISOString() }, null, 2) + '\n');
  await writeFile(join(resultsDir, `${name}.md`), markdown.trim() + '\n');
}

const adminUrl = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh database on the machine's PostgreSQL, or undefined when none is reachable. */
export async function createBenchDatabase() {
  const name = `bench_${Date.now()}`;
  const client = new pg.Client({ connectionString: adminUrl });
  try {
    await client.connect();
    await client.query(`CREATE DATABASE ${name}`);
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Percentiles (ms) of a list of latencies. */
export function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const round = (v) => Math.round(v * 1000) / 1000;
  return { p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), max: round(sorted.at(-1)) };
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 8 });

/**
 * One HTTP request on a kept-alive connection, for sequential latency samples: fetch() costs the load generator
 * itself ~2 ms of CPU per request on these cores, more than the system under test takes for some of them.
 */
export function httpRequest(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(body);
    const outgoing = request(url, { method, agent: keepAlive, headers: payload ? { ...headers, 'content-length': payload.length } : headers }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, ok: (response.statusCode ?? 0) < 300, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}
