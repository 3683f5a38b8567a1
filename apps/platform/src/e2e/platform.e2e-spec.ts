import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createTestDatabase,
  deleteJetStreamStreams,
  TEST_NATS_URL,
  TEST_REDIS_URL,
  uniqueName,
  type TestDatabase,
} from '@llmops/platform-testing';
import { call, EMBEDDED_START_TIMEOUT_MS, startPlatform, type RunningPlatform } from './platform-harness.js';
import { walkAccessControl } from './access-scenario.js';
import { walkTheAuditTrail } from './audit-trail-scenario.js';
import { walkReadCache } from './config-read-cache-scenario.js';
import { walkBulk, walkConfigHistory, walkNamespaces, walkNamespaceSettings } from './config-history-scenario.js';
import { walkWatchResume } from './config-watch-scenario.js';
import { walkWatchCompaction } from './config-compaction-scenario.js';
import { walkSecrets } from './secrets-scenario.js';
import { walkSecretReferences } from './config-secret-references-scenario.js';
import { walkLlmConfigs } from './llm-config-scenario.js';
import { walkTheSlice } from './slice-scenario.js';

/** The gateway's edge-cache TTL here: beyond every walk, so a cached read is refreshed only by invalidation. */
const STALE_AFTER_THE_WALKS = String(30 * 60_000);

/** What a user walks through, the same on real servers and on embedded defaults. */
const scenarios: Array<[string, (platform: RunningPlatform) => Promise<void>]> = [
  ['logs in, writes and reads a config, and audits the write', walkTheSlice],
  ['undoes a bad config: history, racing rollbacks, undelete, all audited', walkConfigHistory],
  ['treats paths as a file system: a key or a namespace, never both; namespaces list', walkNamespaces],
  ['governs a namespace with settings: schemas, validation without writing, its own environment chain', walkNamespaceSettings],
  ['applies bulk changes all or nothing, naming the failing operation', walkBulk],
  ['resumes a dropped SSE watch from Last-Event-ID: 500 writes, each seen exactly once, in order', walkWatchResume],
  ['keeps max_versions per key; a watch from a pruned revision gets 410 and resumes after a reload', walkWatchCompaction],
  ['keeps a secret: masked and revealed reads, a refused reveal audited, versions, CAS, delete/undelete/destroy, rotation', walkSecrets],
  ['resolves {"$secret": path} in a config for callers who may reveal it, and leaves it in place for others', walkSecretReferences],
  ['configures LLMs: endpoints with secret API keys, failover, presets, prompt labels and A/B renders, budgets alerting at 80 % once', walkLlmConfigs],
  ['enforces RBAC per environment and ABAC role bindings (time window, source IPs) on users and API keys, all audited', walkAccessControl],
  ['serves repeated config reads from the gateway cache, coherent with writes made past the gateway', walkReadCache],
];

describe('platform on real PostgreSQL, Redis and NATS JetStream', () => {
  let database: TestDatabase;
  let platform: RunningPlatform;
  const stream = uniqueName('E2E').toUpperCase();

  beforeAll(async () => {
    database = await createTestDatabase({ prefix: 'e2e' });
    platform = await startPlatform({
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      NATS_URL: TEST_NATS_URL,
      NATS_STREAM: stream,
      NATS_SUBJECT_ROOT: stream.toLowerCase(),
      GATEWAY_CONFIG_CACHE_TTL_MS: STALE_AFTER_THE_WALKS,
    });
  });

  afterAll(async () => {
    await platform?.stop();
    await database?.drop();
    await deleteJetStreamStreams([stream]);
  });

  for (const [name, walk] of scenarios) it(name, () => walk(platform));

  it('keeps a verifiable audit trail, and catches an entry edited with psql', async () => {
    await walkTheAuditTrail(platform, { databaseUrl: database.url });
  });

  it('reports every dependency ready', async () => {
    const ready = await call(platform.baseUrl, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.body.checks).sort()).toEqual(['audit-service', 'config-manager', 'database', 'redis', 'secret-service']);
    const metrics = await call<string>(platform.baseUrl, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('grpc_server_handled_total{grpc_service="llmops.config.v1.ConfigService",grpc_method="SetConfig",grpc_code="OK"');
    expect(metrics.body).toMatch(/http_server_requests_total\{method="PUT",route="\/api\/v1\/configs\/\*",status="200"[^}]*\} \d+/);
  });
});

describe('platform on embedded defaults (PGlite, in-memory cache, in-process bus)', () => {
  let platform: RunningPlatform;

  // Each service initialises its own PGlite cluster; four of them on two busy cores can take well over a minute.
  beforeAll(async () => {
    platform = await startPlatform({
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      NATS_URL: undefined,
      GATEWAY_CONFIG_CACHE_TTL_MS: STALE_AFTER_THE_WALKS,
    });
  }, EMBEDDED_START_TIMEOUT_MS);

  afterAll(async () => {
    await platform?.stop();
  });

  for (const [name, walk] of scenarios) it(name, () => walk(platform));

  it('keeps a verifiable audit trail', async () => {
    await walkTheAuditTrail(platform);
  });
});
