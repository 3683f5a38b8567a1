// An authenticated config read through the gateway (JWT check, rate limit, RBAC, gRPC to config-manager,
// PostgreSQL read) against a bare node:http server returning the same body, in the same run.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBenchDatabase, freePort, load, startProcess, waitForHttp, writeResult } from './lib/harness.mjs';

export async function run() {
  const dataDir = await mkdtemp(join(tmpdir(), 'llmops-bench-'));
  // Real PostgreSQL when one is reachable (as in production); BENCH_EMBEDDED=1 measures the embedded PGlite instead.
  const database = process.env.BENCH_EMBEDDED === '1' ? undefined : await createBenchDatabase();
  const gatewayPort = await freePort();
  const env = {
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: String(gatewayPort),
    CONFIG_MANAGER_GRPC_PORT: String(await freePort()),
    CONFIG_MANAGER_OPS_PORT: String(await freePort()),
    AUDIT_SERVICE_GRPC_PORT: String(await freePort()),
    AUDIT_SERVICE_OPS_PORT: String(await freePort()),
    SECRET_SERVICE_GRPC_PORT: String(await freePort()),
    SECRET_SERVICE_OPS_PORT: String(await freePort()),
    ADMIN_EMAIL: 'bench@llmops.local',
    ADMIN_PASSWORD: 'bench-password-long-enough',
    RATE_LIMIT_PER_MINUTE: '100000000',
    ...(database ? { DATABASE_URL: database.url } : {}),
  };
  const platform = startProcess(['dist/apps/platform/main.js'], env);
  let bare;
  try {
    const base = `http://127.0.0.1:${gatewayPort}`;
    await waitForHttp(`${base}/health/ready`, { process: platform, timeoutMs: 120_000 });
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD }),
    }).then((r) => r.json());
    const headers = { authorization: `Bearer ${login.access_token}` };
    const path = '/api/v1/configs/bench/chatbot/model?env=production';
    const put = await fetch(`${base}${path}`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ value: { provider: 'openai', model: 'gpt-4o', temperature: 0.3, max_tokens: 1024 } }),
    });
    if (!put.ok) throw new Error(`config write failed: ${put.status} ${await put.text()}`);
    const body = await fetch(`${base}${path}`, { headers }).then((r) => r.text());

    const barePort = await freePort();
    bare = startProcess(['bench/lib/bare-http-server.mjs'], { PORT: String(barePort), BODY: body });
    await waitForHttp(`http://127.0.0.1:${barePort}/`, { process: bare });

    const gateway = await load('gateway: authenticated config read', { url: `${base}${path}`, headers });
    const floor = await load('bare node:http, same body', { url: `http://127.0.0.1:${barePort}/` });
    const ratio = gateway.requests_per_second / floor.requests_per_second;
    const storage = database ? 'PostgreSQL 15 on this machine' : 'embedded PGlite (one connection)';
    const result = { benchmark: 'gateway-config-read', storage, body_bytes: body.length, gateway, floor, ratio_vs_floor: ratio };
    await writeResult(
      'gateway-config-read',
      result,
      `# Authenticated config read through the gateway

| target | req/s | p50 ms | p99 ms | non-2xx |
|---|---:|---:|---:|---:|
| gateway (JWT + rate limit + RBAC + gRPC + ${storage}) | ${gateway.requests_per_second.toFixed(0)} | ${gateway.latency_ms.p50} | ${gateway.latency_ms.p99} | ${gateway.non_2xx} |
| bare node:http, same ${body.length}-byte body | ${floor.requests_per_second.toFixed(0)} | ${floor.latency_ms.p50} | ${floor.latency_ms.p99} | ${floor.non_2xx} |

Gateway throughput is **${(ratio * 100).toFixed(1)} %** of the bare server's (ratio ${ratio.toFixed(3)}), on ${
        (await import('node:os')).cpus().length
      } cores, ${gateway.connections} connections, ${gateway.duration_s} s each; storage: ${storage}; in-process bus.
Reads are not cached yet (the L1/L2 cache arrives with the config-manager issue), so every request reaches PostgreSQL.`,
    );
  } finally {
    await bare?.stop();
    await platform.stop();
    await rm(dataDir, { recursive: true, force: true });
    await database?.drop();
  }
}
