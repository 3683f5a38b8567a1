import { expect } from '@jest/globals';
import { waitFor } from '@llmops/platform-testing';
import { call, login, type RunningPlatform } from './platform-harness.js';

const API_KEY_VALUE = 'sk-llm-walk-0123456789abcdefghijklmnop';

/**
 * The LLM configuration of seed 001 §6 through the gateway: a model endpoint that holds its API key as a secret
 * reference (a plaintext key is refused), a failover chain checked against the endpoints, the built-in presets,
 * pricing and a budget whose 80 % alert fires once (usage recorded by a key scoped to usage:record too), and a prompt
 * whose production label moves to an A/B split and whose canary label is removed; the label moves and removal and the
 * budget alert reach the audit log. An endpoint the chain names cannot be deleted. The month's cost report counts a
 * failed request's cost against the successful ones and names a cheaper model.
 */
export async function walkLlmConfigs(platform: RunningPlatform): Promise<void> {
  const { baseUrl } = platform;
  const token = await login(baseUrl);
  const put = (path: string, body: unknown, env = 'production') => call(baseUrl, 'PUT', `/api/v1/llm/${path}?env=${env}`, { token, body });
  expect(
    (await call(baseUrl, 'POST', '/api/v1/secrets/llm-walk/openai?env=production', { token, body: { type: 'api_key', value: { provider: 'openai', key: API_KEY_VALUE } } }))
      .status,
  ).toBe(201);

  const endpoint = { provider: 'openai', model: 'gpt-4o', api_key: { $secret: 'llm-walk/openai', field: 'key' }, default_parameters: { temperature: 0.3 } };
  const plaintext = await put('endpoints/llm-walk/chat/gpt-4o', { value: { ...endpoint, api_key: API_KEY_VALUE } });
  expect(plaintext.status).toBe(400);
  expect(plaintext.body.error.message).toContain('/api_key must be a secret reference');
  expect(JSON.stringify(plaintext.body)).not.toContain(API_KEY_VALUE);
  const written = await put('endpoints/llm-walk/chat/gpt-4o', { value: endpoint, expected_version: 0 });
  expect(written.status).toBe(200);
  expect(written.body).toMatchObject({ kind: 'model_endpoint', key: 'endpoint.gpt-4o', version: 1, built_in: false });
  expect((await put('endpoints/llm-walk/chat/claude-haiku', { value: { provider: 'anthropic', model: 'claude-3-haiku', api_key: { $secret: 'llm-walk/anthropic' } } })).status).toBe(200);
  // An endpoint is a config: the plain config API reads it, and resolves its secret reference for a caller who may reveal it.
  const resolved = await call(baseUrl, 'GET', '/api/v1/configs/llm-walk/chat/endpoint.gpt-4o?env=production&resolve_secrets=true', { token });
  expect(resolved.body.value.api_key).toBe(API_KEY_VALUE);

  const missing = await put('failover-chains/llm-walk/chat/main', { value: { primary: 'gpt-4o', fallbacks: ['claude-haiku', 'azure-gpt-4o'] } });
  expect(missing.status).toBe(400);
  expect(missing.body.error.message).toContain('value.fallbacks.1 names endpoint azure-gpt-4o');
  const chain = await put('failover-chains/llm-walk/chat/main', { value: { primary: 'gpt-4o', fallbacks: ['claude-haiku'] } });
  expect(chain.status).toBe(200);
  expect(chain.body.value.circuit_breaker).toEqual({ failure_threshold: 3, half_open_after_seconds: 60, half_open_max_requests: 1 });
  // Neither a plain delete nor a bulk may leave the chain naming a missing endpoint.
  const inUse = await call(baseUrl, 'DELETE', '/api/v1/configs/llm-walk/chat/endpoint.claude-haiku?env=production', { token });
  expect(inUse.status).toBe(409);
  expect(inUse.body.error.message).toContain('failover chain failover.main (in production) would name the missing endpoint claude-haiku');
  const bulkDelete = { operations: [{ op: 'delete', path: 'llm-walk/chat/endpoint.claude-haiku', env: 'production' }] };
  expect((await call(baseUrl, 'POST', '/api/v1/configs/bulk', { token, body: bulkDelete })).status).toBe(409);
  const endpoints = await call(baseUrl, 'GET', '/api/v1/llm/endpoints?namespace=llm-walk/chat&env=production', { token });
  expect(endpoints.body.data.map((config: { name: string }) => config.name)).toEqual(['claude-haiku', 'gpt-4o']);

  const presets = await call(baseUrl, 'GET', '/api/v1/llm/presets?namespace=llm-walk/chat&env=production', { token });
  expect(presets.body.data.map((preset: { name: string; value: { temperature: number; top_p: number } }) => [preset.name, preset.value.temperature, preset.value.top_p])).toEqual([
    ['code-generation', 0.4, 0.95],
    ['customer-support', 0.7, 0.9],
    ['data-extraction', 0.1, 0.85],
    ['development-creative', 0.9, 0.95],
    ['production-deterministic', 0.3, 0.9],
  ]);
  const viewer = await call(baseUrl, 'POST', '/api/v1/api-keys', { token, body: { name: 'llm-viewer', roles: ['viewer'] } });
  expect((await call(baseUrl, 'GET', '/api/v1/llm/presets/llm-walk/chat/customer-support?env=production', { apiKey: viewer.body.key })).body).toMatchObject({
    built_in: true,
    value: { temperature: 0.7, top_p: 0.9 },
  });
  expect((await call(baseUrl, 'PUT', '/api/v1/llm/presets/llm-walk/chat/mine?env=production', { apiKey: viewer.body.key, body: { value: { temperature: 1, top_p: 1 } } })).status).toBe(403);

  await walkPrompts(baseUrl, token);
  await walkBudget(baseUrl, token);
  await walkCostReport(baseUrl, token);
}

async function walkPrompts(baseUrl: string, token: string): Promise<void> {
  const prompt = '/api/v1/prompts/llm-walk/chat/support-answer';
  const template = 'You are a {{role}} assistant for {{company_name}}.\n\nCustomer question: {{question}}';
  const variables = [{ name: 'role', required: false, default: 'friendly' }, { name: 'company_name' }, { name: 'question' }];
  const first = await call(baseUrl, 'POST', `${prompt}/versions`, { token, body: { version: '1.0.0', template, variables } });
  expect(first.status).toBe(201);
  expect(first.body.variables).toEqual([
    { name: 'role', required: false, default: 'friendly', description: '' },
    { name: 'company_name', required: true, default: null, description: '' },
    { name: 'question', required: true, default: null, description: '' },
  ]);
  expect((await call(baseUrl, 'POST', `${prompt}/versions`, { token, body: { version: '1.1.0', template: `${template}\nAnswer in one paragraph.`, variables } })).status).toBe(201);
  const older = await call(baseUrl, 'POST', `${prompt}/versions`, { token, body: { version: '1.0.1', template, variables } });
  expect(older.status).toBe(409);
  const undeclared = await call(baseUrl, 'POST', `${prompt}/versions`, { token, body: { version: '2.0.0', template: '{{a}} {{b}}', variables: [{ name: 'a' }] } });
  expect(undeclared.status).toBe(400);
  expect(undeclared.body.error.message).toContain('{{b}}');

  expect((await call(baseUrl, 'PUT', `${prompt}/labels/production`, { token, body: { version: '1.0.0', expected_revision: 0 } })).status).toBe(200);
  const ask = { company_name: 'Acme', question: 'Where is my order?' };
  const rendered = await call(baseUrl, 'POST', `${prompt}/render`, { token, body: { variables: ask } });
  expect(rendered.status).toBe(200);
  expect(rendered.body).toEqual({
    text: 'You are a friendly assistant for Acme.\n\nCustomer question: Where is my order?',
    version: '1.0.0',
    label: 'production',
    variant: 0,
    defaulted: ['role'],
  });
  const missing = await call(baseUrl, 'POST', `${prompt}/render`, { token, body: { variables: { company_name: 'Acme' } } });
  expect(missing.status).toBe(400);
  expect(missing.body.error.message).toBe('variable question is required');
  const unknown = await call(baseUrl, 'POST', `${prompt}/render`, { token, body: { variables: { ...ask, tone: 'warm' } } });
  expect(unknown.status).toBe(400);
  expect(unknown.body.error.message).toContain('unknown variable(s) tone');

  const split = await call(baseUrl, 'PUT', `${prompt}/labels/production`, {
    token,
    body: { variants: [{ version: '1.0.0', weight: 80 }, { version: '1.1.0', weight: 20 }], expected_revision: 1 },
  });
  expect(split.status).toBe(200);
  expect(split.body).toMatchObject({ label: 'production', revision: 2 });
  const sticky = await call(baseUrl, 'POST', `${prompt}/render`, { token, body: { variables: ask, subject: 'customer-7' } });
  for (let round = 0; round < 5; round++) {
    expect((await call(baseUrl, 'POST', `${prompt}/render`, { token, body: { variables: ask, subject: 'customer-7' } })).body.version).toBe(sticky.body.version);
  }
  const pinned = await call(baseUrl, 'POST', `${prompt}/render`, { token, body: { version: '1.1.0', variables: ask } });
  expect(pinned.body).toMatchObject({ version: '1.1.0', label: null });
  const shown = await call(baseUrl, 'GET', prompt, { token });
  expect(shown.body.versions.map((version: { version: string }) => version.version)).toEqual(['1.1.0', '1.0.0']);
  expect(shown.body.labels).toEqual([expect.objectContaining({ label: 'production', revision: 2 })]);

  const developer = await call(baseUrl, 'POST', '/api/v1/api-keys', { token, body: { name: 'llm-dev', roles: ['developer'] } });
  expect((await call(baseUrl, 'PUT', `${prompt}/labels/production`, { apiKey: developer.body.key, body: { version: '1.1.0' } })).status).toBe(403);
  expect((await call(baseUrl, 'PUT', `${prompt}/labels/canary`, { apiKey: developer.body.key, body: { version: '1.1.0' } })).status).toBe(200);

  const listed = await call(baseUrl, 'GET', '/api/v1/prompts?namespace=llm-walk/chat', { token });
  expect(listed.status).toBe(200);
  expect(
    listed.body.data.map((summary: { name: string; latest_version: string; labels: Array<{ label: string }> }) => [
      summary.name,
      summary.latest_version,
      summary.labels.map((label) => label.label),
    ]),
  ).toEqual([['support-answer', '1.1.0', ['canary', 'production']]]);
  // Removing a label needs what moving it needs.
  expect((await call(baseUrl, 'DELETE', `${prompt}/labels/production`, { apiKey: developer.body.key })).status).toBe(403);
  const removed = await call(baseUrl, 'DELETE', `${prompt}/labels/canary`, { apiKey: developer.body.key });
  expect(removed.status).toBe(200);
  expect(removed.body).toMatchObject({ label: 'canary', revision: 1, variants: [{ version: '1.1.0', weight: 1 }] });
  const gone = await call(baseUrl, 'DELETE', `${prompt}/labels/canary`, { token });
  expect(gone.status).toBe(404);
  expect(gone.body.error.message).toBe('prompt llm-walk/chat/support-answer has no label canary');

  const moves = await waitFor(
    async () => {
      const entries = await call(baseUrl, 'GET', '/api/v1/audit_logs?resource_id=llm-walk/chat/support-answer&limit=50', { token });
      const found = entries.body.data.filter((entry: { event_type: string }) => entry.event_type === 'config.prompt_label_moved');
      return found.length === 3 ? found : undefined;
    },
    { timeoutMs: 20_000, message: 'the label moves did not reach the audit log' },
  );
  expect(moves.map((entry: { details: { label: string; revision: number } }) => [entry.details.label, entry.details.revision]).sort()).toEqual([
    ['canary', 1],
    ['production', 1],
    ['production', 2],
  ]);
  const removals = await waitFor(
    async () => {
      const entries = await call(baseUrl, 'GET', '/api/v1/audit_logs?resource_id=llm-walk/chat/support-answer&limit=50', { token });
      const found = entries.body.data.filter((entry: { event_type: string }) => entry.event_type === 'config.prompt_label_deleted');
      return found.length > 0 ? found : undefined;
    },
    { timeoutMs: 20_000, message: 'the label removal did not reach the audit log' },
  );
  expect(removals.map((entry: { details: { label: string } }) => entry.details.label)).toEqual(['canary']);
}

async function walkBudget(baseUrl: string, token: string): Promise<void> {
  const pricing = { models: { 'gpt-4o': { input_usd_per_million: 2.5, output_usd_per_million: 10 } } };
  expect((await call(baseUrl, 'PUT', '/api/v1/llm/pricing/llm-walk/openai?env=base', { token, body: { value: pricing } })).status).toBe(200);
  expect((await call(baseUrl, 'PUT', '/api/v1/budgets/llm-walk/chat', { token, body: { monthly_usd: 10, expected_version: 0 } })).body).toMatchObject({
    monthly_usd: 10,
    version: 1,
  });
  const usage = (requestId: string, inputTokens: number, outputTokens: number) =>
    call(baseUrl, 'POST', '/api/v1/usage/llm-walk/chat', {
      token,
      body: { request_id: requestId, provider: 'openai', model: 'gpt-4o', input_tokens: inputTokens, output_tokens: outputTokens },
    });
  // 2,000,000 in at $2.50/M and 200,000 out at $10/M: $7.
  const first = await usage('chat-1', 2_000_000, 200_000);
  expect(first.status).toBe(200);
  expect(first.body).toMatchObject({ cost_usd: 7, duplicate: false, alerts: [] });
  const crossing = await usage('chat-2', 400_000, 0);
  expect(crossing.body.alerts).toEqual([{ namespace: 'llm-walk/chat', threshold: 0.8, monthly_usd: 10, spend_usd: 8, month: crossing.body.month }]);
  expect((await usage('chat-2', 400_000, 0)).body).toMatchObject({ duplicate: true, alerts: [] });
  expect((await usage('chat-3', 100_000, 0)).body.alerts).toEqual([]);
  const report = await call(baseUrl, 'GET', '/api/v1/budgets/llm-walk/chat', { token });
  expect(report.body).toMatchObject({
    namespace: 'llm-walk/chat',
    spend_usd: 8.25,
    budget: { monthly_usd: 10, spend_usd: 8.25, remaining_usd: 1.75, thresholds_crossed: [0.8] },
    inherited_budgets: [],
  });
  const unpriced = await call(baseUrl, 'POST', '/api/v1/usage/llm-walk/chat', {
    token,
    body: { request_id: 'chat-4', provider: 'openai', model: 'o3', input_tokens: 1, output_tokens: 1 },
  });
  expect(unpriced.status).toBe(409);
  expect(unpriced.body.error.message).toContain('no price for openai/o3');
  // An LLM proxy's key may record usage and do nothing else.
  const recorder = await call(baseUrl, 'POST', '/api/v1/api-keys', { token, body: { name: 'llm-usage-recorder', roles: ['service-account'], scopes: ['usage:record'] } });
  expect(recorder.status).toBe(201);
  const recorded = await call(baseUrl, 'POST', '/api/v1/usage/llm-walk/chat', {
    apiKey: recorder.body.key,
    body: { request_id: 'proxy-1', provider: 'openai', model: 'gpt-4o', input_tokens: 100_000, output_tokens: 0 },
  });
  expect(recorded.status).toBe(200);
  expect(recorded.body).toMatchObject({ cost_usd: 0.25, duplicate: false, alerts: [] });
  expect((await call(baseUrl, 'GET', '/api/v1/budgets/llm-walk/chat', { apiKey: recorder.body.key })).status).toBe(403);

  const alerts = await waitFor(
    async () => {
      const entries = await call(baseUrl, 'GET', '/api/v1/audit_logs?resource_id=llm-walk/chat&limit=50', { token });
      const found = entries.body.data.filter((entry: { event_type: string }) => entry.event_type === 'config.budget_threshold_crossed');
      return found.length > 0 ? found : undefined;
    },
    { timeoutMs: 20_000, message: 'the budget alert did not reach the audit log' },
  );
  expect(alerts).toHaveLength(1);
  expect(alerts[0].details).toMatchObject({ threshold: 0.8, monthly_usd: 10, spend_usd: 8 });
}

/** Runs after walkBudget: llm-walk/chat has spent $8.50 on gpt-4o in four successful requests this month. */
async function walkCostReport(baseUrl: string, token: string): Promise<void> {
  const pricing = { models: { 'claude-3-haiku': { input_usd_per_million: 0.25, output_usd_per_million: 1.25 } } };
  expect((await call(baseUrl, 'PUT', '/api/v1/llm/pricing/llm-walk/anthropic?env=base', { token, body: { value: pricing } })).status).toBe(200);
  const failed = await call(baseUrl, 'POST', '/api/v1/usage/llm-walk/chat', {
    token,
    body: { request_id: 'chat-5', provider: 'openai', model: 'gpt-4o', input_tokens: 200_000, output_tokens: 0, failed: true },
  });
  expect(failed.body).toMatchObject({ cost_usd: 0.5, failed: true, duplicate: false });
  const report = await call(baseUrl, 'GET', '/api/v1/costs/llm-walk/chat', { token });
  expect(report.status).toBe(200);
  // $9 over 5 requests, and over the 4 that succeeded; on haiku the same 2.8M in / 0.2M out would have cost 0.70 + 0.25.
  expect(report.body.totals).toEqual({
    requests: 5,
    failed_requests: 1,
    input_tokens: 2_800_000,
    output_tokens: 200_000,
    cost_usd: 9,
    cost_per_request_usd: 1.8,
    cost_per_successful_request_usd: 2.25,
  });
  expect(report.body.models).toMatchObject([
    { provider: 'openai', model: 'gpt-4o', endpoints: [{ name: 'gpt-4o', environment: 'production' }], alternatives: [{ model: 'claude-3-haiku', cost_usd: 0.95, difference_usd: -8.05 }] },
  ]);
  expect(report.body.recommendations).toMatchObject([{ model: 'gpt-4o', alternative_model: 'claude-3-haiku', saving_usd: 8.05, saving_percent: 89.44 }]);
  expect(report.body.recommendations[0].summary).toContain('compares cost only');
  expect((await call(baseUrl, 'GET', '/api/v1/costs/llm-walk/chat?month=2999-01', { token })).status).toBe(400);
}
