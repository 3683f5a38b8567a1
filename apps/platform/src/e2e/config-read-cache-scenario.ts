import { expect } from '@jest/globals';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { fromJson } from '@bufbuild/protobuf';
import { ConfigService } from '@llmops/contracts';
import { principalToMetadata } from '@llmops/platform-auth';
import { createGrpcClient } from '@llmops/platform-grpc';
import { waitFor } from '@llmops/platform-testing';
import { call, login, type RunningPlatform } from './platform-harness.js';

const URL = '/api/v1/configs/read-cache/chatbot/model?env=production';

/**
 * The gateway serves repeated reads from its edge cache and stays coherent with config-manager: a write made past the
 * gateway (straight to config-manager, as another gateway replica would) reaches readers through the watch.
 */
export async function walkReadCache(platform: RunningPlatform): Promise<void> {
  const { baseUrl } = platform;
  const token = await login(baseUrl);
  expect((await call(baseUrl, 'PUT', URL, { token, body: { value: { model: 'gpt-4o' } } })).status).toBe(200);
  const hitsBefore = await cacheHits(baseUrl);
  for (let i = 0; i < 20; i++) expect((await call(baseUrl, 'GET', URL, { token })).body.value).toEqual({ model: 'gpt-4o' });
  expect(await cacheHits(baseUrl)).toBeGreaterThanOrEqual(hitsBefore + 18);

  // The platform runs these walks with a cache TTL far beyond their time: only invalidation can refresh a read here.
  const configManager = createGrpcClient(ConfigService, { address: `127.0.0.1:${platform.configManager.grpcPort}` });
  const metadata = principalToMetadata({ id: 'read-cache-e2e', type: 'user', roles: ['global-admin'] }, 'read-cache-e2e');
  try {
    await configManager.setConfig(
      { namespace: 'read-cache/chatbot', key: 'model', environment: 'production', value: fromJson(ValueSchema, { model: 'claude' }) },
      { metadata },
    );
    await waitFor(async () => (await call(baseUrl, 'GET', URL, { token })).body.value?.model === 'claude', {
      timeoutMs: 10_000,
      message: 'a write past the gateway did not reach its cached reads',
    });

    // Settings change how a key resolves without changing the key: production reads through staging by default...
    const chained = '/api/v1/configs/read-cache/chain/model?env=production';
    expect((await call(baseUrl, 'PUT', '/api/v1/configs/read-cache/chain/model?env=staging', { token, body: { value: 'from-staging' } })).status).toBe(200);
    expect((await call(baseUrl, 'PUT', '/api/v1/configs/read-cache/chain/model?env=base', { token, body: { value: 'from-base' } })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await call(baseUrl, 'GET', chained, { token })).body).toMatchObject({ value: 'from-staging', resolved_from: 'staging' });
    // ...until the namespace's own chain, changed past the gateway, skips staging; the settings event drops the cache.
    await configManager.setNamespaceSettings({ namespace: 'read-cache/chain', environments: ['base', 'production'] }, { metadata });
    await waitFor(async () => (await call(baseUrl, 'GET', chained, { token })).body.resolved_from === 'base', {
      timeoutMs: 10_000,
      message: 'a settings change past the gateway did not reach its cached reads',
    });
  } finally {
    configManager.close();
  }
  // A write through the gateway is read back at once, before its change comes round the watch.
  expect((await call(baseUrl, 'PUT', URL, { token, body: { value: { model: 'mistral' } } })).status).toBe(200);
  expect((await call(baseUrl, 'GET', URL, { token })).body.value).toEqual({ model: 'mistral' });
}

async function cacheHits(baseUrl: string): Promise<number> {
  const metrics = await fetch(`${baseUrl}/metrics`).then((response) => response.text());
  const line = metrics.split('\n').find((candidate) => candidate.startsWith('cache_lookups_total{') && candidate.includes('cache="gateway-config-reads"') && candidate.includes('layer="l1"') && candidate.includes('result="hit"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}
