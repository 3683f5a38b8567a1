import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status } from '@grpc/grpc-js';
import { fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { timestampFromDate, ValueSchema } from '@bufbuild/protobuf/wkt';
import { ConfigService, LlmConfigEventType, LlmConfigKind, LlmConfigService } from '@llmops/contracts';
import { principalToMetadata } from '@llmops/platform-auth';
import { createGrpcClient, GrpcCallError, type GrpcClient } from '@llmops/platform-grpc';
import { decodeEvent } from '@llmops/platform-messaging';
import type { Database } from '@llmops/platform-persistence';
import { Registry } from 'prom-client';
import { ConfigsGrpcController } from '../configs/configs.grpc-controller.js';
import { CONFIG_MANAGER_SCHEMA } from '../migrations/1763800000000-CreateConfigEntries.js';
import { openConfigTestBed, type ConfigTestBed } from '../testing/config-test-bed.js';
import { BudgetsService } from './budgets/budgets.service.js';
import { GetCostReport } from './costs/get-cost-report.usecase.js';
import { LlmConfigGrpcController } from './llm-config.grpc-controller.js';
import { LlmConfigsService } from './llm-configs.service.js';
import { PromptsService } from './prompts/prompts.service.js';

const admin = principalToMetadata({ id: 'admin-1', type: 'user', roles: ['global-admin'] }, 'req-admin');
const developer = principalToMetadata({ id: 'dev-1', type: 'user', roles: ['developer'] }, 'req-dev');
const viewer = principalToMetadata({ id: 'viewer-1', type: 'user', roles: ['viewer'] }, 'req-viewer');

const json = (value: unknown) => fromJson(ValueSchema, value as JsonValue);

async function grpcFailure(promise: Promise<unknown>): Promise<GrpcCallError> {
  const error = await promise.catch((caught: unknown) => caught);
  if (error instanceof GrpcCallError) return error;
  throw new Error(`expected a gRPC error, got ${String(error)}`);
}

describe('LlmConfigService over gRPC on PostgreSQL', () => {
  let bed: ConfigTestBed;
  let database: Database;
  let llm: GrpcClient<typeof LlmConfigService>;
  let configs: GrpcClient<typeof ConfigService>;

  beforeAll(async () => {
    bed = await openConfigTestBed('llm_configs');
    database = bed.database;
    const llmConfigs = new LlmConfigsService(bed.configs);
    const controller = new LlmConfigGrpcController(
      llmConfigs,
      new PromptsService(database, bed.outbox),
      new BudgetsService(database, bed.outbox, llmConfigs),
      new GetCostReport(database, llmConfigs),
    );
    const address = await bed.serve((server) => {
      server.addService(LlmConfigService, controller.implementation());
      server.addService(ConfigService, new ConfigsGrpcController(bed.configs, bed.settings).implementation());
    });
    llm = createGrpcClient(LlmConfigService, { address, registry: new Registry() });
    configs = createGrpcClient(ConfigService, { address, registry: new Registry() });
  });

  afterAll(async () => {
    llm?.close();
    configs?.close();
    await bed?.close();
  });

  /** The outbox events of one type, payloads decoded, oldest first. */
  const events = async (type: string): Promise<Array<Record<string, unknown>>> => {
    const rows = (await database.dataSource.query(`SELECT envelope FROM ${CONFIG_MANAGER_SCHEMA}.outbox WHERE subject LIKE $1 ORDER BY seq`, [
      `%.${type}`,
    ])) as Array<{ envelope: Buffer }>;
    return rows.map((row) => decodeEvent(new Uint8Array(row.envelope)).payload as Record<string, unknown>);
  };

  const putEndpoint = (namespace: string, name: string, value: unknown, environment = 'production') =>
    llm.putLlmConfig({ kind: LlmConfigKind.MODEL_ENDPOINT, namespace, name, environment, value: json(value) }, { metadata: admin });

  const openAi = { provider: 'openai', model: 'gpt-4o', api_key: { $secret: 'acme/openai', field: 'key' } };

  describe('typed configs', () => {
    it('stores an endpoint as the config endpoint.<name>, versioned like any config', async () => {
      const written = await putEndpoint('acme/chat', 'gpt-4o', openAi);
      expect(written.config).toMatchObject({ key: 'endpoint.gpt-4o', version: 1n, environment: 'production', builtIn: false });
      const plain = await configs.getConfig({ namespace: 'acme/chat', key: 'endpoint.gpt-4o', environment: 'production' }, { metadata: admin });
      expect(toJson(ValueSchema, plain.entry!.value!)).toEqual(openAi);
    });

    it('refuses a plaintext API key with INVALID_ARGUMENT naming the field', async () => {
      const error = await grpcFailure(putEndpoint('acme/chat', 'leaky', { ...openAi, api_key: 'sk-live-1' }));
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(error.details['error-field']).toBe('value.api_key');
      expect(error.message).not.toContain('sk-live-1');
    });

    it('checks on write that a failover chain names existing endpoints, and fills in the breaker', async () => {
      await putEndpoint('acme/chat', 'claude-haiku', { provider: 'anthropic', model: 'claude-3-haiku', api_key: { $secret: 'acme/anthropic' } });
      const put = (fallbacks: string[]) =>
        llm.putLlmConfig(
          { kind: LlmConfigKind.FAILOVER_CHAIN, namespace: 'acme/chat', name: 'main', environment: 'production', value: json({ primary: 'gpt-4o', fallbacks }) },
          { metadata: admin },
        );
      const missing = await grpcFailure(put(['claude-haiku', 'azure-gpt-4o']));
      expect(missing.code).toBe(status.INVALID_ARGUMENT);
      expect(missing.details['error-field']).toBe('value.fallbacks.1');
      expect(missing.message).toContain('endpoint azure-gpt-4o');
      const chain = await put(['claude-haiku']);
      expect(toJson(ValueSchema, chain.config!.value!)).toEqual({
        primary: 'gpt-4o',
        fallbacks: ['claude-haiku'],
        circuit_breaker: { failure_threshold: 3, half_open_after_seconds: 60, half_open_max_requests: 1 },
      });
    });

    it('refuses with FAILED_PRECONDITION to delete an endpoint a chain names, through DeleteConfig and BulkApply alike', async () => {
      const haiku = { namespace: 'acme/chat', key: 'endpoint.claude-haiku', environment: 'production' };
      const refused = await grpcFailure(configs.deleteConfig(haiku, { metadata: admin }));
      expect(refused.code).toBe(status.FAILED_PRECONDITION);
      expect(refused.message).toContain('failover chain failover.main (in production) would name the missing endpoint claude-haiku');
      const bulk = await grpcFailure(configs.bulkApply({ operations: [{ operation: { case: 'delete', value: haiku } }] }, { metadata: admin }));
      expect(bulk.code).toBe(status.FAILED_PRECONDITION);
      expect(bulk.message).toMatch(/^operation 0: /);
      expect((await llm.getLlmConfig({ kind: LlmConfigKind.MODEL_ENDPOINT, namespace: 'acme/chat', name: 'claude-haiku', environment: 'production' }, { metadata: admin })).config?.version).toBe(1n);
      // Without the fallback the chain no longer needs it.
      await llm.putLlmConfig(
        { kind: LlmConfigKind.FAILOVER_CHAIN, namespace: 'acme/chat', name: 'main', environment: 'production', value: json({ primary: 'gpt-4o' }) },
        { metadata: admin },
      );
      await configs.deleteConfig(haiku, { metadata: admin });
    });

    it('serves the five built-in presets without a write, and a namespace override over one', async () => {
      const builtIn = await llm.getLlmConfig(
        { kind: LlmConfigKind.PARAMETER_PRESET, namespace: 'acme/chat', name: 'code-generation', environment: 'production' },
        { metadata: admin },
      );
      expect(builtIn.config).toMatchObject({ builtIn: true, version: 0n });
      expect(toJson(ValueSchema, builtIn.config!.value!)).toMatchObject({ temperature: 0.4, top_p: 0.95 });
      await llm.putLlmConfig(
        { kind: LlmConfigKind.PARAMETER_PRESET, namespace: 'acme/chat', name: 'code-generation', environment: 'base', value: json({ temperature: 0.2, top_p: 0.9 }) },
        { metadata: admin },
      );
      const listed = await llm.listLlmConfigs({ kind: LlmConfigKind.PARAMETER_PRESET, namespace: 'acme/chat', environment: 'production' }, { metadata: admin });
      expect(listed.configs.map((config) => [config.name, config.builtIn])).toEqual([
        ['code-generation', false],
        ['customer-support', true],
        ['data-extraction', true],
        ['development-creative', true],
        ['production-deterministic', true],
      ]);
      expect(toJson(ValueSchema, listed.configs[0]!.value!)).toEqual({ temperature: 0.2, top_p: 0.9 });
    });

    it('refuses, through the plain config API too, a value that does not fit its kind', async () => {
      const error = await grpcFailure(
        configs.setConfig(
          { namespace: 'acme/chat', key: 'endpoint.sneaky', environment: 'production', value: json({ provider: 'openai', model: 'x', api_key: 'sk-1' }) },
          { metadata: admin },
        ),
      );
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(error.message).toContain('is not a valid model endpoint');
      const missing = await grpcFailure(
        llm.getLlmConfig({ kind: LlmConfigKind.MODEL_ENDPOINT, namespace: 'acme/chat', name: 'sneaky', environment: 'production' }, { metadata: admin }),
      );
      expect(missing.code).toBe(status.NOT_FOUND);
    });

    it('answers INVALID_ARGUMENT for an unspecified kind and NOT_FOUND for a missing endpoint', async () => {
      expect((await grpcFailure(llm.getLlmConfig({ namespace: 'acme/chat', name: 'x', environment: 'production' }, { metadata: admin }))).code).toBe(status.INVALID_ARGUMENT);
      const missing = await grpcFailure(
        llm.getLlmConfig({ kind: LlmConfigKind.MODEL_ENDPOINT, namespace: 'acme/chat', name: 'nope', environment: 'production' }, { metadata: admin }),
      );
      expect(missing.code).toBe(status.NOT_FOUND);
    });
  });

  describe('prompt templates', () => {
    const ref = { namespace: 'acme/support', name: 'answer' };
    const template = 'You are a {{role}} assistant for {{company_name}}.\nCustomer question: {{question}}';
    const variables = [
      { name: 'role', required: false, defaultValue: 'helpful', description: '' },
      { name: 'company_name', required: true, description: '' },
      { name: 'question', required: true, description: '' },
    ];

    it('keeps versions immutable and increasing', async () => {
      await llm.createPromptVersion({ ...ref, version: '1.0.0', template, variables }, { metadata: admin });
      await llm.createPromptVersion({ ...ref, version: '1.1.0', template: `${template}\nBe brief.`, variables }, { metadata: admin });
      for (const version of ['1.1.0', '1.0.9']) {
        const stale = await grpcFailure(llm.createPromptVersion({ ...ref, version, template, variables }, { metadata: admin }));
        expect(stale.code).toBe(status.FAILED_PRECONDITION);
        expect(stale.message).toContain('must be greater than its newest version 1.1.0');
      }
      const prompt = await llm.getPrompt(ref, { metadata: admin });
      expect(prompt.versions.map((version) => version.version)).toEqual(['1.1.0', '1.0.0']);
      expect((await events(LlmConfigEventType.PromptVersionCreated)).map((payload) => payload.version)).toEqual(['1.0.0', '1.1.0']);
    });

    it('renders through a label, with defaults, and refuses a missing or unknown variable by name', async () => {
      await llm.setPromptLabel({ ...ref, label: 'production', variants: [{ version: '1.0.0', weight: 1 }] }, { metadata: admin });
      const rendered = await llm.renderPrompt({ ...ref, variables: { company_name: 'Acme', question: 'Where is my order?' } }, { metadata: admin });
      expect(rendered).toMatchObject({
        text: 'You are a helpful assistant for Acme.\nCustomer question: Where is my order?',
        version: '1.0.0',
        label: 'production',
        variant: 0,
        defaulted: ['role'],
      });
      const missing = await grpcFailure(llm.renderPrompt({ ...ref, label: 'production', variables: { company_name: 'Acme' } }, { metadata: admin }));
      expect(missing.code).toBe(status.INVALID_ARGUMENT);
      expect(missing.details['error-field']).toBe('variables.question');
      const unknown = await grpcFailure(llm.renderPrompt({ ...ref, version: '1.1.0', variables: { company_name: 'A', question: 'q', tone: 'x' } }, { metadata: admin }));
      expect(unknown.message).toContain('unknown variable(s) tone');
    });

    it('moves a label to an A/B split, audited with what it replaced, and keeps each subject on its variant', async () => {
      const moved = await llm.setPromptLabel(
        { ...ref, label: 'production', expectedRevision: 1n, variants: [{ version: '1.0.0', weight: 50 }, { version: '1.1.0', weight: 50 }] },
        { metadata: admin },
      );
      expect(moved.label?.revision).toBe(2n);
      const [, move] = await events(LlmConfigEventType.PromptLabelMoved);
      expect(move).toMatchObject({
        label: 'production',
        revision: 2,
        previous_variants: [{ version: '1.0.0', weight: 1 }],
        variants: [{ version: '1.0.0', weight: 50 }, { version: '1.1.0', weight: 50 }],
      });
      const render = (subject: string) => llm.renderPrompt({ ...ref, subject, variables: { company_name: 'A', question: 'q' } }, { metadata: admin });
      const seen = new Set<string>();
      for (let index = 0; index < 40; index++) {
        const first = await render(`user-${index}`);
        expect((await render(`user-${index}`)).version).toBe(first.version);
        seen.add(first.version);
      }
      expect(seen).toEqual(new Set(['1.0.0', '1.1.0']));
      const stale = await grpcFailure(llm.setPromptLabel({ ...ref, label: 'production', expectedRevision: 1n, variants: [{ version: '1.1.0', weight: 1 }] }, { metadata: admin }));
      expect(stale.code).toBe(status.ABORTED);
      const unknownVersion = await grpcFailure(llm.setPromptLabel({ ...ref, label: 'staging', variants: [{ version: '9.0.0', weight: 1 }] }, { metadata: admin }));
      expect(unknownVersion.details['error-field']).toBe('variants[0].version');
    });

    it('guards a label named like an environment as that environment', async () => {
      const denied = await grpcFailure(llm.setPromptLabel({ ...ref, label: 'production', variants: [{ version: '1.1.0', weight: 1 }] }, { metadata: developer }));
      expect(denied.code).toBe(status.PERMISSION_DENIED);
      await llm.setPromptLabel({ ...ref, label: 'experiment-b', variants: [{ version: '1.1.0', weight: 1 }] }, { metadata: developer });
      expect((await llm.renderPrompt({ ...ref, label: 'latest', variables: { company_name: 'A', question: 'q' } }, { metadata: developer })).version).toBe('1.1.0');
      expect((await grpcFailure(llm.renderPrompt({ ...ref, variables: { company_name: 'A', question: 'q' } }, { metadata: developer }))).code).toBe(status.PERMISSION_DENIED);
    });

    it("lists a namespace's prompts by name with their newest version and labels, not those below it", async () => {
      await llm.createPromptVersion({ namespace: 'acme/support', name: 'greeting', version: '0.1.0', template: 'Hello {{who}}' }, { metadata: admin });
      await llm.createPromptVersion({ namespace: 'acme/support/deeper', name: 'hidden', version: '1.0.0', template: 'x' }, { metadata: admin });
      const listed = await llm.listPrompts({ namespace: 'acme/support' }, { metadata: developer });
      expect(listed.prompts.map((prompt) => [prompt.name, prompt.latestVersion, prompt.labels.map((label) => label.label)])).toEqual([
        ['answer', '1.1.0', ['experiment-b', 'production']],
        ['greeting', '0.1.0', []],
      ]);
      const [answer, greeting] = listed.prompts;
      expect(answer).toMatchObject({ namespace: 'acme/support', createdBy: 'admin-1' });
      expect(answer!.labels.find((label) => label.label === 'production')?.variants).toEqual([
        expect.objectContaining({ version: '1.0.0', weight: 50 }),
        expect.objectContaining({ version: '1.1.0', weight: 50 }),
      ]);
      // Updated by its latest label move (the developer's experiment-b), after its creation.
      const newestMove = Math.max(...answer!.labels.map((label) => Number(label.updatedAt!.seconds) * 1000 + label.updatedAt!.nanos / 1e6));
      expect(Number(answer!.updatedAt!.seconds) * 1000 + answer!.updatedAt!.nanos / 1e6).toBe(newestMove);
      expect(Number(answer!.updatedAt!.seconds)).toBeGreaterThanOrEqual(Number(answer!.createdAt!.seconds));
      // No label: the prompt row and its only version were written in one transaction, at one now().
      expect(greeting!.updatedAt).toEqual(greeting!.createdAt);
      expect((await llm.listPrompts({ namespace: 'acme/nothing-here' }, { metadata: admin })).prompts).toEqual([]);
      expect((await grpcFailure(llm.listPrompts({ namespace: 'acme/support' }, { metadata: principalToMetadata({ id: 'n', type: 'user', roles: [] }, 'r') }))).code).toBe(
        status.PERMISSION_DENIED,
      );
      expect((await grpcFailure(llm.listPrompts({ namespace: 'Acme' }, { metadata: admin }))).code).toBe(status.INVALID_ARGUMENT);
    });

    it('removes a label with the permission that moves it, audited with what it served', async () => {
      await llm.setPromptLabel({ ...ref, label: 'staging', variants: [{ version: '1.1.0', weight: 1 }] }, { metadata: admin });
      const denied = await grpcFailure(llm.deletePromptLabel({ ...ref, label: 'staging' }, { metadata: developer }));
      expect(denied.code).toBe(status.PERMISSION_DENIED);
      const stale = await grpcFailure(llm.deletePromptLabel({ ...ref, label: 'staging', expectedRevision: 7n }, { metadata: admin }));
      expect(stale.code).toBe(status.ABORTED);
      const removed = await llm.deletePromptLabel({ ...ref, label: 'staging', expectedRevision: 1n }, { metadata: admin });
      expect(removed.label).toMatchObject({ label: 'staging', revision: 1n, variants: [expect.objectContaining({ version: '1.1.0', weight: 1 })] });
      const [deletion] = await events(LlmConfigEventType.PromptLabelDeleted);
      expect(deletion).toEqual({ namespace: 'acme/support', name: 'answer', label: 'staging', revision: 1, previous_variants: [{ version: '1.1.0', weight: 1 }] });
      const render = await grpcFailure(llm.renderPrompt({ ...ref, label: 'staging', variables: { company_name: 'A', question: 'q' } }, { metadata: admin }));
      expect(render.code).toBe(status.NOT_FOUND);
      expect((await llm.getPrompt(ref, { metadata: admin })).labels.map((label) => label.label)).toEqual(['experiment-b', 'production']);
      // A label that is not named like an environment is development's, as when it moves.
      await llm.deletePromptLabel({ ...ref, label: 'experiment-b' }, { metadata: developer });
    });

    it('answers NOT_FOUND naming the missing label or prompt, and refuses to remove latest', async () => {
      const label = await grpcFailure(llm.deletePromptLabel({ ...ref, label: 'staging' }, { metadata: admin }));
      expect(label.code).toBe(status.NOT_FOUND);
      expect(label.message).toBe('prompt acme/support/answer has no label staging');
      expect(label.details['error-field']).toBe('label');
      const prompt = await grpcFailure(llm.deletePromptLabel({ namespace: 'acme/support', name: 'missing', label: 'staging' }, { metadata: admin }));
      expect(prompt.code).toBe(status.NOT_FOUND);
      expect(prompt.message).toBe('prompt acme/support/missing not found');
      const latest = await grpcFailure(llm.deletePromptLabel({ ...ref, label: 'latest' }, { metadata: admin }));
      expect(latest.code).toBe(status.INVALID_ARGUMENT);
      expect(latest.message).toContain('cannot be removed');
      expect((await events(LlmConfigEventType.PromptLabelDeleted)).map((payload) => payload.label)).toEqual(['staging', 'experiment-b']);
    });
  });

  describe('budgets and usage', () => {
    const price = (namespace: string, models: Record<string, { input_usd_per_million: number; output_usd_per_million: number }>) =>
      llm.putLlmConfig({ kind: LlmConfigKind.MODEL_PRICING, namespace, name: 'openai', environment: 'base', value: json({ models }) }, { metadata: admin });
    const record = (namespace: string, requestId: string, inputTokens: number, outputTokens = 0) =>
      llm.recordUsage({ namespace, requestId, provider: 'openai', model: 'gpt-4o', inputTokens: BigInt(inputTokens), outputTokens: BigInt(outputTokens) }, { metadata: admin });
    const crossings = async (namespace: string) =>
      (await events(LlmConfigEventType.BudgetThresholdCrossed)).filter((payload) => payload.namespace === namespace).map((payload) => payload.threshold);

    it('prices usage from the nearest pricing that lists the model, and records a request id once', async () => {
      await price('spend', { 'gpt-4o': { input_usd_per_million: 2.5, output_usd_per_million: 10 } });
      const first = await record('spend/team-a', 'req-1', 1_000_000, 100_000);
      expect(first.usage).toMatchObject({ costUsd: 3.5, environment: 'production', recordedBy: 'admin-1' });
      expect(first.duplicate).toBe(false);
      const again = await record('spend/team-a', 'req-1', 1_000_000, 100_000);
      expect(again.duplicate).toBe(true);
      const conflicting = await grpcFailure(record('spend/team-a', 'req-1', 5));
      expect(conflicting.code).toBe(status.FAILED_PRECONDITION);
      const report = await llm.getBudget({ namespace: 'spend' }, { metadata: admin });
      expect(report.spendUsd).toBe(3.5);
      const unpriced = await grpcFailure(llm.recordUsage({ namespace: 'spend', requestId: 'r', provider: 'openai', model: 'o3', inputTokens: 1n }, { metadata: admin }));
      expect(unpriced.message).toContain('no price for openai/o3');
      // A model named like an Object.prototype member is just as unpriced.
      for (const model of ['__proto__', 'constructor', 'toString']) {
        const inherited = await grpcFailure(llm.recordUsage({ namespace: 'spend', requestId: `proto-${model}`, provider: 'openai', model, inputTokens: 1n }, { metadata: admin }));
        expect(inherited.code).toBe(unpriced.code);
        expect(inherited.message).toContain(`no price for openai/${model}`);
      }
    });

    it('announces 80 % once per month, then 100 %, for the namespace and an ancestor whose budget covers it', async () => {
      await price('alerts', { 'gpt-4o': { input_usd_per_million: 10, output_usd_per_million: 10 } });
      await llm.setBudget({ namespace: 'alerts/bot', monthlyUsd: 1 }, { metadata: admin });
      await llm.setBudget({ namespace: 'alerts', monthlyUsd: 2 }, { metadata: admin });
      expect((await record('alerts/bot', 'a-1', 70_000)).alerts).toEqual([]);
      const crossing = await record('alerts/bot', 'a-2', 15_000);
      expect(crossing.alerts).toMatchObject([{ namespace: 'alerts/bot', threshold: 0.8, monthlyUsd: 1, spendUsd: 0.85 }]);
      expect((await record('alerts/bot', 'a-3', 5_000)).alerts).toEqual([]);
      expect(await crossings('alerts/bot')).toEqual([0.8]);
      const over = await record('alerts/bot', 'a-4', 80_000);
      expect(over.alerts.map((alert) => [alert.namespace, alert.threshold])).toEqual([
        ['alerts/bot', 1],
        ['alerts', 0.8],
      ]);
      const report = await llm.getBudget({ namespace: 'alerts/bot' }, { metadata: admin });
      expect(report.budgets.map((budget) => [budget.namespace, budget.spendUsd, budget.remainingUsd, budget.thresholdsCrossed])).toEqual([
        ['alerts/bot', 1.7, -0.7, [0.8, 1]],
        ['alerts', 1.7, 0.3, [0.8]],
      ]);
    });

    it('announces a crossing once when racing records cross it together', async () => {
      await price('race', { 'gpt-4o': { input_usd_per_million: 10, output_usd_per_million: 10 } });
      await llm.setBudget({ namespace: 'race', monthlyUsd: 1 }, { metadata: admin });
      const results = await Promise.all(Array.from({ length: 20 }, (_, index) => record('race/app', `r-${index}`, 10_000)));
      const reported = results.flatMap((result) => result.alerts.map((alert) => alert.threshold)).sort();
      expect(reported).toEqual([0.8, 1]);
      expect((await crossings('race')).sort()).toEqual([0.8, 1]);
      expect((await llm.getBudget({ namespace: 'race' }, { metadata: admin })).spendUsd).toBeCloseTo(2, 10);
    });

    it('announces at once when a lowered budget is already crossed, and checks its version', async () => {
      await price('lowered', { 'gpt-4o': { input_usd_per_million: 10, output_usd_per_million: 10 } });
      await llm.setBudget({ namespace: 'lowered', monthlyUsd: 100 }, { metadata: admin });
      await record('lowered', 'l-1', 100_000);
      expect(await crossings('lowered')).toEqual([]);
      const stale = await grpcFailure(llm.setBudget({ namespace: 'lowered', monthlyUsd: 1, expectedVersion: 0n }, { metadata: admin }));
      expect(stale.code).toBe(status.ABORTED);
      await llm.setBudget({ namespace: 'lowered', monthlyUsd: 1.2, expectedVersion: 1n }, { metadata: admin });
      expect(await crossings('lowered')).toEqual([0.8]);
    });

    it('records usage with usage:record, which an API key may be scoped to alone', async () => {
      await price('scoped', { 'gpt-4o': { input_usd_per_million: 1, output_usd_per_million: 1 } });
      const recorder = principalToMetadata({ id: 'key-1', type: 'api_key', roles: ['service-account'], scopes: ['usage:record'] }, 'req-key');
      const recorded = await llm.recordUsage({ namespace: 'scoped', requestId: 's-1', provider: 'openai', model: 'gpt-4o', inputTokens: 1_000_000n }, { metadata: recorder });
      expect(recorded.usage).toMatchObject({ costUsd: 1, environment: 'production', recordedBy: 'key-1' });
      // The key reads nothing else.
      const read = await grpcFailure(llm.getLlmConfig({ kind: LlmConfigKind.MODEL_PRICING, namespace: 'scoped', name: 'openai', environment: 'production' }, { metadata: recorder }));
      expect(read.code).toBe(status.PERMISSION_DENIED);
      // configs:write no longer records usage by itself.
      const writer = principalToMetadata({ id: 'key-2', type: 'api_key', roles: ['operator'], scopes: ['configs:write', 'configs:read'] }, 'req-key');
      const notScoped = await grpcFailure(llm.recordUsage({ namespace: 'scoped', requestId: 's-2', provider: 'openai', model: 'gpt-4o', inputTokens: 1n }, { metadata: writer }));
      expect(notScoped.code).toBe(status.PERMISSION_DENIED);
      expect(notScoped.message).toContain('usage:record');
      const byViewer = await grpcFailure(llm.recordUsage({ namespace: 'scoped', requestId: 's-3', provider: 'openai', model: 'gpt-4o', inputTokens: 1n }, { metadata: viewer }));
      expect(byViewer.message).toBe('role viewer may not record usage');
      // A developer records in development, as it writes configs there, and nowhere else.
      await llm.recordUsage({ namespace: 'scoped', requestId: 's-4', provider: 'openai', model: 'gpt-4o', inputTokens: 1n, environment: 'development' }, { metadata: developer });
      const inProduction = await grpcFailure(llm.recordUsage({ namespace: 'scoped', requestId: 's-5', provider: 'openai', model: 'gpt-4o', inputTokens: 1n }, { metadata: developer }));
      expect(inProduction.code).toBe(status.PERMISSION_DENIED);
    });

    it('keeps budgets to those who may act in every environment', async () => {
      expect((await grpcFailure(llm.setBudget({ namespace: 'alerts', monthlyUsd: 5 }, { metadata: developer }))).code).toBe(status.PERMISSION_DENIED);
      expect((await grpcFailure(llm.setBudget({ namespace: 'alerts', monthlyUsd: 0 }, { metadata: admin }))).details['error-field']).toBe('monthly_usd');
      // Below a cent: no budget, and it would round to 0 in the table.
      expect((await grpcFailure(llm.setBudget({ namespace: 'alerts', monthlyUsd: 0.0000001 }, { metadata: admin }))).details['error-field']).toBe('monthly_usd');
      expect((await grpcFailure(llm.getBudget({ namespace: 'alerts', month: '2026-13' }, { metadata: admin }))).details['error-field']).toBe('month');
    });
  });

  describe('cost report', () => {
    const pricing = (namespace: string, provider: string, models: Record<string, { input_usd_per_million: number; output_usd_per_million: number }>, environment = 'base') =>
      llm.putLlmConfig({ kind: LlmConfigKind.MODEL_PRICING, namespace, name: provider, environment, value: json({ models }) }, { metadata: admin });
    const use = (namespace: string, requestId: string, provider: string, model: string, inputTokens: number, outputTokens: number, more: { failed?: boolean; occurredAt?: Date } = {}) =>
      llm.recordUsage(
        {
          namespace,
          requestId,
          provider,
          model,
          inputTokens: BigInt(inputTokens),
          outputTokens: BigInt(outputTokens),
          failed: more.failed,
          occurredAt: more.occurredAt ? timestampFromDate(more.occurredAt) : undefined,
        },
        { metadata: admin },
      );
    const now = new Date();
    const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15, 12));

    it('records a failed request at its full cost, and a retry must name the same outcome', async () => {
      await pricing('costs', 'openai', {
        'gpt-4o': { input_usd_per_million: 2.5, output_usd_per_million: 10 },
        'gpt-4o-mini': { input_usd_per_million: 0.15, output_usd_per_million: 0.6 },
      });
      await pricing('costs', 'anthropic', { 'claude-3-haiku': { input_usd_per_million: 0.25, output_usd_per_million: 1.25 } });
      // 400,000 in at $2.50/M and 50,000 out at $10/M: $1.50, paid although the request failed.
      const failed = await use('costs/chat', 'c-2', 'openai', 'gpt-4o', 400_000, 50_000, { failed: true });
      expect(failed.usage).toMatchObject({ costUsd: 1.5, failed: true });
      expect((await use('costs/chat', 'c-2', 'openai', 'gpt-4o', 400_000, 50_000, { failed: true })).duplicate).toBe(true);
      const asSucceeded = await grpcFailure(use('costs/chat', 'c-2', 'openai', 'gpt-4o', 400_000, 50_000));
      expect(asSucceeded.code).toBe(status.FAILED_PRECONDITION);
      expect(asSucceeded.message).toContain('(openai/gpt-4o, 400000 in, 50000 out, failed)');
      expect(asSucceeded.details['error-field']).toBe('request_id');
      expect((await use('costs/chat', 'c-1', 'openai', 'gpt-4o', 1_000_000, 100_000)).usage).toMatchObject({ costUsd: 3.5, failed: false });
      expect((await use('costs/chat', 'c-1', 'openai', 'gpt-4o', 1_000_000, 100_000, { failed: false })).duplicate).toBe(true);
      expect((await grpcFailure(use('costs/chat', 'c-1', 'openai', 'gpt-4o', 1_000_000, 100_000, { failed: true }))).code).toBe(status.FAILED_PRECONDITION);
    });

    it('reports the figures, the endpoints of each model, what every other priced model would have cost, and the savings', async () => {
      await use('costs/search', 'c-3', 'openai', 'gpt-4o', 600_000, 50_000); // $1.50 + $0.50 = $2
      await use('costs', 'c-4', 'openai', 'gpt-4o', 400_000, 0, { failed: true }); // $1
      await use('costs/chat', 'h-1', 'anthropic', 'claude-3-haiku', 2_000_000, 400_000); // $0.50 + $0.50 = $1
      await use('costs/chat/deep', 'h-2', 'anthropic', 'claude-3-haiku', 2_000_000, 400_000); // $1
      await use('costs/search', 'm-1', 'openai', 'gpt-4o-mini', 1_000_000, 1_000_000); // $0.15 + $0.60 = $0.75
      // Neither last month's usage nor a namespace that merely starts with the same letters counts.
      await use('costs/chat', 'old-1', 'openai', 'gpt-4o', 100_000, 0, { occurredAt: lastMonth }); // $0.25
      await pricing('costs-other', 'openai', { 'gpt-4o': { input_usd_per_million: 2.5, output_usd_per_million: 10 } });
      await use('costs-other', 'x-1', 'openai', 'gpt-4o', 1_000_000, 0);
      // Endpoints of the namespace in any environment, by the model they call; a deleted one and one below are not.
      await putEndpoint('costs', 'main', openAi);
      await putEndpoint('costs', 'main', { ...openAi, model: 'gpt-4o-mini' }, 'development');
      await putEndpoint('costs', 'fast', { provider: 'anthropic', model: 'claude-3-haiku', api_key: { $secret: 'costs/anthropic' } }, 'base');
      await putEndpoint('costs', 'old', openAi);
      await configs.deleteConfig({ namespace: 'costs', key: 'endpoint.old', environment: 'production' }, { metadata: admin });
      await putEndpoint('costs/chat', 'chat-only', openAi);

      const report = await llm.getCostReport({ namespace: 'costs' }, { metadata: viewer });
      expect(report).toMatchObject({ namespace: 'costs', month: now.toISOString().slice(0, 7), environment: 'production', minSavingPercent: 20 });
      // 7 requests, 2 failed (c-2, c-4); $8 + $2 + $0.75 = $10.75; per request 10.75 / 7, per successful one 10.75 / 5.
      expect(report.totals).toEqual(
        expect.objectContaining({
          requests: 7n,
          failedRequests: 2n,
          inputTokens: 7_400_000n,
          outputTokens: 2_000_000n,
          costUsd: 10.75,
          costPerRequestUsd: 1.5357142857,
          costPerSuccessfulRequestUsd: 2.15,
        }),
      );
      const figures = report.models.map((model) => [
        `${model.provider}/${model.model}`,
        model.figures!.requests,
        model.figures!.failedRequests,
        model.figures!.inputTokens,
        model.figures!.outputTokens,
        model.figures!.costUsd,
        model.figures!.costPerRequestUsd,
        model.figures!.costPerSuccessfulRequestUsd,
      ]);
      expect(figures).toEqual([
        ['openai/gpt-4o', 4n, 2n, 2_400_000n, 200_000n, 8, 2, 4],
        ['anthropic/claude-3-haiku', 2n, 0n, 4_000_000n, 800_000n, 2, 1, 1],
        ['openai/gpt-4o-mini', 1n, 0n, 1_000_000n, 1_000_000n, 0.75, 0.75, 0.75],
      ]);
      expect(report.models.map((model) => model.endpoints.map((endpoint) => `${endpoint.name}@${endpoint.environment}`))).toEqual([
        ['main@production'],
        ['fast@base'],
        ['main@development'],
      ]);
      // gpt-4o's 2.4M in / 0.2M out: mini 0.36 + 0.12, haiku 0.60 + 0.25. Haiku's 4M / 0.8M: mini 0.60 + 0.48, gpt-4o 10 + 8.
      // Mini's 1M / 1M: haiku 0.25 + 1.25, gpt-4o 2.50 + 10.
      const alternatives = report.models.map((model) => model.alternatives.map((alternative) => [alternative.model, alternative.costUsd, alternative.differenceUsd]));
      expect(alternatives).toEqual([
        [
          ['gpt-4o-mini', 0.48, -7.52],
          ['claude-3-haiku', 0.85, -7.15],
        ],
        [
          ['gpt-4o-mini', 1.08, -0.92],
          ['gpt-4o', 18, 16],
        ],
        [
          ['claude-3-haiku', 1.5, 0.75],
          ['gpt-4o', 12.5, 11.75],
        ],
      ]);
      // Mini has no cheaper alternative, so no recommendation.
      expect(report.recommendations).toMatchObject([
        { provider: 'openai', model: 'gpt-4o', alternativeProvider: 'openai', alternativeModel: 'gpt-4o-mini', costUsd: 8, alternativeCostUsd: 0.48, savingUsd: 7.52, savingPercent: 94 },
        { provider: 'anthropic', model: 'claude-3-haiku', alternativeModel: 'gpt-4o-mini', costUsd: 2, alternativeCostUsd: 1.08, savingUsd: 0.92, savingPercent: 46 },
      ]);
      expect(report.recommendations[0]!.summary).toBe(
        'openai/gpt-4o-mini would have cost $0.48 instead of $8.00 for the same tokens as openai/gpt-4o ($7.52, 94 % less). ' +
          'This compares cost only: answer quality, latency and context length are not measured.',
      );

      const below = await llm.getCostReport({ namespace: 'costs/chat' }, { metadata: admin });
      // c-1, c-2 and h-1 here, h-2 below: $3.50 + $1.50 + $1 + $1.
      expect(below.totals).toMatchObject({ requests: 4n, failedRequests: 1n, costUsd: 7, costPerRequestUsd: 1.75, costPerSuccessfulRequestUsd: 2.3333333333 });
      expect(below.models.map((model) => model.endpoints.map((endpoint) => endpoint.name))).toEqual([['chat-only'], []]);
      const previous = await llm.getCostReport({ namespace: 'costs', month: lastMonth.toISOString().slice(0, 7) }, { metadata: admin });
      expect(previous.totals).toMatchObject({ requests: 1n, failedRequests: 0n, costUsd: 0.25, costPerRequestUsd: 0.25 });
      const empty = await llm.getCostReport({ namespace: 'costs/nobody' }, { metadata: admin });
      expect(empty.totals).toMatchObject({ requests: 0n, failedRequests: 0n, inputTokens: 0n, costUsd: 0 });
      expect([empty.totals?.costPerRequestUsd, empty.totals?.costPerSuccessfulRequestUsd]).toEqual([undefined, undefined]);
      expect([empty.models, empty.recommendations]).toEqual([[], []]);
    });

    it('prices the alternatives in the environment asked for, and leaves the recorded spend as it was', async () => {
      // Written after the usage: production now prices haiku lower, staging still resolves the base pricing.
      await pricing('costs', 'anthropic', { 'claude-3-haiku': { input_usd_per_million: 0.1, output_usd_per_million: 0.5 } }, 'production');
      const production = await llm.getCostReport({ namespace: 'costs' }, { metadata: admin });
      expect(production.totals?.costUsd).toBe(10.75);
      // gpt-4o's tokens on haiku: 2.4 × 0.1 + 0.2 × 0.5 = $0.34. Mini's: 1 × 0.1 + 1 × 0.5 = $0.60, exactly 20 % under $0.75.
      expect(production.recommendations.map((recommendation) => [recommendation.model, recommendation.alternativeModel, recommendation.savingUsd, recommendation.savingPercent])).toEqual([
        ['gpt-4o', 'claude-3-haiku', 7.66, 95.75],
        ['claude-3-haiku', 'gpt-4o-mini', 0.92, 46],
        ['gpt-4o-mini', 'claude-3-haiku', 0.15, 20],
      ]);
      const staging = await llm.getCostReport({ namespace: 'costs', environment: 'staging' }, { metadata: admin });
      expect(staging.environment).toBe('staging');
      expect(staging.recommendations.map((recommendation) => [recommendation.model, recommendation.alternativeModel, recommendation.savingUsd])).toEqual([
        ['gpt-4o', 'gpt-4o-mini', 7.52],
        ['claude-3-haiku', 'gpt-4o-mini', 0.92],
      ]);
    });

    it('refuses bad input with INVALID_ARGUMENT naming the field, and needs what a budget report needs', async () => {
      const field = async (request: { namespace: string; month?: string; environment?: string }) => {
        const error = await grpcFailure(llm.getCostReport(request, { metadata: admin }));
        expect(error.code).toBe(status.INVALID_ARGUMENT);
        return [error.details['error-field'], error.message];
      };
      expect(await field({ namespace: 'Costs' })).toEqual(['namespace', expect.stringContaining('namespace segment 1 "Costs"')]);
      expect(await field({ namespace: 'costs', month: '2026-13' })).toEqual(['month', 'month "2026-13" must be YYYY-MM']);
      const nextYear = `${now.getUTCFullYear() + 1}-01`;
      expect(await field({ namespace: 'costs', month: nextYear })).toEqual(['month', `month ${nextYear} has not begun`]);
      expect(await field({ namespace: 'costs', environment: 'Prod!' })).toEqual(['environment', expect.stringContaining('environment "Prod!"')]);
      expect((await grpcFailure(llm.getCostReport({ namespace: 'costs' }, { metadata: developer }))).code).toBe(status.PERMISSION_DENIED);
      const recorder = principalToMetadata({ id: 'key-1', type: 'api_key', roles: ['service-account'], scopes: ['usage:record'] }, 'req-key');
      expect((await grpcFailure(llm.getCostReport({ namespace: 'costs' }, { metadata: recorder }))).code).toBe(status.PERMISSION_DENIED);
    });
  });
});
