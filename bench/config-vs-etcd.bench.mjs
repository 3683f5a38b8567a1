// Issue 3's benchmarks, each against etcd on the same machine in the same run, with the same load generator:
// (a) an authenticated config read through the gateway vs etcd's v3 HTTP range request vs a bare node:http server;
// (b) SDK get() reads per second (in memory);
// (c) watch propagation: from issuing a write to the change reaching a watcher, via the SDK vs etcd's watch.
// The gateway and config-manager run as separate processes (as deployed), on PostgreSQL and Redis when reachable.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createBenchDatabase, freePort, httpRequest, load, percentiles, root, startProcess, waitForHttp, writeResult } from './lib/harness.mjs';

const WATCH_SAMPLES = 1000;
// Read targets run in turn, this many rounds each, so a drift in this VM's speed weighs on all of them alike.
const READ_ROUNDS = 3;
const NAMESPACE = 'bench/chatbot';
const VALUE = { provider: 'openai', model: 'gpt-4o', temperature: 0.3, max_tokens: 1024 };

export async function run() {
  const etcdBinary = ensureEtcd();
  const dataDir = await mkdtemp(join(tmpdir(), 'llmops-bench-'));
  const database = process.env.BENCH_EMBEDDED === '1' ? undefined : await createBenchDatabase();
  const processes = [];
  try {
    const ports = { gateway: await freePort(), cmGrpc: await freePort(), cmOps: await freePort(), etcd: await freePort(), etcdPeer: await freePort() };
    const shared = {
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      ...(database ? { DATABASE_URL: database.url, REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' } : {}),
    };
    const configManager = startProcess(['dist/apps/config-manager/main.js'], {
      ...shared,
      CONFIG_MANAGER_GRPC_PORT: String(ports.cmGrpc),
      CONFIG_MANAGER_OPS_PORT: String(ports.cmOps),
    });
    processes.push(configManager);
    await waitForHttp(`http://127.0.0.1:${ports.cmOps}/health/ready`, { process: configManager, timeoutMs: 120_000 });
    const gatewayProcess = startProcess(['dist/apps/api-gateway/main.js'], {
      ...shared,
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(ports.gateway),
      CONFIG_MANAGER_URL: `127.0.0.1:${ports.cmGrpc}`,
      ADMIN_EMAIL: 'bench@llmops.local',
      ADMIN_PASSWORD: 'bench-password-long-enough',
      RATE_LIMIT_PER_MINUTE: '100000000',
    });
    processes.push(gatewayProcess);
    const base = `http://127.0.0.1:${ports.gateway}`;
    await waitForHttp(`${base}/health/live`, { process: gatewayProcess, timeoutMs: 120_000 });
    const etcd = startProcess([
      '--data-dir', join(dataDir, 'etcd'),
      '--listen-client-urls', `http://127.0.0.1:${ports.etcd}`,
      '--advertise-client-urls', `http://127.0.0.1:${ports.etcd}`,
      '--listen-peer-urls', `http://127.0.0.1:${ports.etcdPeer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${ports.etcdPeer}`,
      '--initial-cluster', `default=http://127.0.0.1:${ports.etcdPeer}`,
      '--log-level', 'warn',
    ], {}, etcdBinary);
    processes.push(etcd);
    const etcdUrl = `http://127.0.0.1:${ports.etcd}`;
    await waitForHttp(`${etcdUrl}/health`, { process: etcd });

    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'bench@llmops.local', password: 'bench-password-long-enough' }),
    }).then((r) => r.json());
    const headers = { authorization: `Bearer ${login.access_token}` };
    const path = `/api/v1/configs/${NAMESPACE}/model?env=production`;
    await put(`${base}${path}`, headers, VALUE);
    const body = await fetch(`${base}${path}`, { headers }).then((r) => r.text());
    const etcdKey = b64(`/${NAMESPACE}/production/model`);
    await etcdPost(etcdUrl, '/v3/kv/put', { key: etcdKey, value: b64(JSON.stringify(VALUE)) });
    const barePort = await freePort();
    const bare = startProcess(['bench/lib/bare-http-server.mjs'], { PORT: String(barePort), BODY: body });
    processes.push(bare);
    await waitForHttp(`http://127.0.0.1:${barePort}/`, { process: bare });

    // (a) reads: rounds interleaved, each target summarized by its median round
    const readTargets = {
      gateway: ['gateway: authenticated cached config read', { url: `${base}${path}`, headers }],
      etcd: [
        'etcd v3 HTTP range',
        { url: `${etcdUrl}/v3/kv/range`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: etcdKey }) },
      ],
      floor: ['bare node:http, same body', { url: `http://127.0.0.1:${barePort}/` }],
    };
    const rounds = { gateway: [], etcd: [], floor: [] };
    for (let round = 0; round < READ_ROUNDS; round++) {
      for (const [target, [name, options]] of Object.entries(readTargets)) rounds[target].push(await load(`${name} (round ${round + 1})`, options));
    }
    const gateway = medianRound(rounds.gateway);
    const etcdRead = medianRound(rounds.etcd);
    const floor = medianRound(rounds.floor);

    // (b) SDK get()
    const { ConfigClient } = await import(pathToFileURL(join(root, 'libs/sdk/dist/index.js')).href);
    const client = await ConfigClient.connect({ baseUrl: base, token: login.access_token, namespace: NAMESPACE, environment: 'production' });
    const sdkReadsPerSecond = measureGets(client);

    // (c) watch propagation
    const sdkWatch = await sdkPropagation(client, `${base}${path}`, headers);
    await client.close();
    const etcdWatch = await etcdPropagation(etcdUrl, etcdKey);

    const result = {
      benchmark: 'config-vs-etcd',
      storage: database ? 'PostgreSQL 15 + Redis on this machine' : 'embedded PGlite, no Redis',
      cores: cpus().length,
      read: { gateway, etcd: etcdRead, floor, ratio_gateway_vs_etcd: gateway.requests_per_second / etcdRead.requests_per_second, rounds },
      sdk_get_reads_per_second: sdkReadsPerSecond,
      watch_propagation_ms: { sdk: sdkWatch, etcd: etcdWatch, samples: WATCH_SAMPLES },
    };
    const targets = {
      a: gateway.requests_per_second >= etcdRead.requests_per_second && gateway.latency_ms.p99 <= etcdRead.latency_ms.p99,
      b: sdkReadsPerSecond > 5_000_000,
      c: sdkWatch.p99 < 50,
    };
    result.targets_met = targets;
    const mark = (met) => (met ? 'met' : '**not met**');
    await writeResult(
      'config-vs-etcd',
      result,
      `# Configuration reads and watch vs etcd ${etcdVersion(etcdBinary)}, same machine, same run

(a) Authenticated read of one key (${body.length}-byte body), ${gateway.connections} connections, ${READ_ROUNDS} interleaved rounds of
${gateway.duration_s} s per target; req/s, p50 and p99 are each the median of a target's rounds:

| target | req/s | p50 ms | p99 ms | non-2xx (all rounds) |
|---|---:|---:|---:|---:|
| gateway (JWT + rate limit + RBAC + edge cache kept coherent by config-manager's watch) | ${fmt(gateway.requests_per_second)} | ${gateway.latency_ms.p50} | ${gateway.latency_ms.p99} | ${gateway.non_2xx} |
| etcd v3 HTTP range (\`POST /v3/kv/range\`, no auth) | ${fmt(etcdRead.requests_per_second)} | ${etcdRead.latency_ms.p50} | ${etcdRead.latency_ms.p99} | ${etcdRead.non_2xx} |
| bare node:http, same body | ${fmt(floor.requests_per_second)} | ${floor.latency_ms.p50} | ${floor.latency_ms.p99} | ${floor.non_2xx} |

Gateway / etcd: ${(result.read.ratio_gateway_vs_etcd * 100).toFixed(1)} % of etcd's req/s (target ≥ 100 % with p99 no worse): ${mark(targets.a)}.
Gateway / bare node:http: ${((gateway.requests_per_second / floor.requests_per_second) * 100).toFixed(1)} %.

(b) SDK \`get()\` from memory: ${fmt(sdkReadsPerSecond)} reads/s on one thread (target > 5,000,000): ${mark(targets.b)}.

(c) Watch propagation, write issued → change delivered, ${WATCH_SAMPLES} sequential writes each (the write's own
acknowledgement is the floor under it):

| watcher | p50 ms | p90 ms | p99 ms | max ms | write acknowledged p50 / p99 ms |
|---|---:|---:|---:|---:|---:|
| SDK (gateway SSE ← config-manager watch) | ${sdkWatch.p50} | ${sdkWatch.p90} | ${sdkWatch.p99} | ${sdkWatch.max} | ${sdkWatch.write_acknowledged.p50} / ${sdkWatch.write_acknowledged.p99} |
| etcd watch (HTTP gateway stream) | ${etcdWatch.p50} | ${etcdWatch.p90} | ${etcdWatch.p99} | ${etcdWatch.max} | ${etcdWatch.write_acknowledged.p50} / ${etcdWatch.write_acknowledged.p99} |

Target p99 < 50 ms: ${mark(targets.c)}. Storage: ${result.storage}; ${cpus().length} cores shared by every process,
the load generator included; etcd ${etcdVersion(etcdBinary)} single member with its own WAL on the same disk.
A write through the gateway is JWT + rate limit + RBAC, a gRPC call, and in config-manager one PostgreSQL transaction
(one round trip takes the revision lock and reads the current version and settings, one more writes the version, its
outbox event and max_versions pruning) and the cache invalidation; the change then reaches the SDK through config-manager's shared change feed and the
gateway's SSE stream.
Gateway and config-manager run as separate processes; a cached read costs the gateway authentication (verified-token
cache, credential state reused for 1 s), a Redis rate-limit round trip, RBAC and a map lookup.`,
    );
  } finally {
    for (const child of processes.reverse()) await child.stop();
    await rm(dataDir, { recursive: true, force: true });
    await database?.drop();
  }
}

/** The issue asks for Debian's etcd-server in the bench setup; install it when missing (needs root). */
function ensureEtcd() {
  try {
    return execFileSync('which', ['etcd']).toString().trim();
  } catch {
    console.log('installing etcd-server (apt-get)');
    execFileSync('apt-get', ['install', '-y', 'etcd-server'], { stdio: 'inherit' });
    return execFileSync('which', ['etcd']).toString().trim();
  }
}

function etcdVersion(binary) {
  return /etcd Version: (\S+)/.exec(execFileSync(binary, ['--version']).toString())?.[1] ?? '';
}

// Both writers use the same kept-alive node:http client, so the comparison is of the servers, not of fetch().
async function put(url, headers, value) {
  const response = await httpRequest(url, { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ value }) });
  if (!response.ok) throw new Error(`config write failed: ${response.status} ${response.text}`);
}

async function etcdPost(base, path, body) {
  const response = await httpRequest(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`etcd ${path} failed: ${response.status} ${response.text}`);
  return JSON.parse(response.text);
}

function b64(text) {
  return Buffer.from(text).toString('base64');
}

/** get() calls per second over ~2 s, reading the key each time so the call cannot be hoisted away. */
function measureGets(client) {
  let sink = 0;
  const batch = 1_000_000;
  for (let i = 0; i < batch; i++) sink += client.get('model') ? 1 : 0;
  let calls = 0;
  const started = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 2) {
    for (let i = 0; i < batch; i++) sink += client.get('model') ? 1 : 0;
    calls += batch;
    elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  }
  if (sink === 0) throw new Error('get() returned nothing');
  const perSecond = calls / elapsed;
  console.log(`sdk get(): ${fmt(perSecond)} reads/s`);
  return perSecond;
}

async function sdkPropagation(client, url, headers) {
  const samples = [];
  const acknowledged = [];
  for (let i = 0; i < WATCH_SAMPLES; i++) {
    const seen = new Promise((resolve) => {
      const off = client.on('change', (change) => {
        if (change.key === 'model' && change.value?.max_tokens === i) {
          off();
          resolve(performance.now());
        }
      });
    });
    const started = performance.now();
    await put(url, headers, { ...VALUE, max_tokens: i });
    acknowledged.push(performance.now() - started);
    samples.push((await seen) - started);
  }
  const summary = { ...percentiles(samples), write_acknowledged: percentiles(acknowledged) };
  console.log('sdk watch propagation', summary);
  return summary;
}

async function etcdPropagation(base, key) {
  const controller = new AbortController();
  const response = await fetch(`${base}/v3/watch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ create_request: { key } }),
    signal: controller.signal,
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  const waiters = new Map();
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ done: true }));
      if (done) return;
      buffered += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        for (const event of JSON.parse(line).result?.events ?? []) {
          const marker = JSON.parse(Buffer.from(event.kv.value, 'base64').toString()).max_tokens;
          waiters.get(marker)?.(performance.now());
        }
      }
    }
  })();
  const samples = [];
  const acknowledged = [];
  for (let i = 0; i < WATCH_SAMPLES; i++) {
    const seen = new Promise((resolve) => waiters.set(i, resolve));
    const started = performance.now();
    await etcdPost(base, '/v3/kv/put', { key, value: b64(JSON.stringify({ ...VALUE, max_tokens: i })) });
    acknowledged.push(performance.now() - started);
    samples.push((await seen) - started);
    waiters.delete(i);
  }
  controller.abort();
  await pump;
  const summary = { ...percentiles(samples), write_acknowledged: percentiles(acknowledged) };
  console.log('etcd watch propagation', summary);
  return summary;
}

/**
 * A target's rounds summarized: req/s and each latency percentile the median of the rounds' own, max the highest,
 * and failures (non-2xx, errors, timeouts) summed over every round.
 */
function medianRound(runs) {
  const middle = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const sum = (field) => runs.reduce((total, run) => total + run[field], 0);
  return {
    ...runs[0],
    name: runs[0].name.replace(/ \(round \d+\)$/, ''),
    requests_per_second: middle(runs.map((run) => run.requests_per_second)),
    latency_ms: {
      p50: middle(runs.map((run) => run.latency_ms.p50)),
      p90: middle(runs.map((run) => run.latency_ms.p90)),
      p99: middle(runs.map((run) => run.latency_ms.p99)),
      max: Math.max(...runs.map((run) => run.latency_ms.max)),
    },
    non_2xx: sum('non_2xx'),
    errors: sum('errors'),
    timeouts: sum('timeouts'),
  };
}

function fmt(value) {
  return Math.round(value).toLocaleString('en-US');
}
