import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { GetCostReportResponseSchema } from '@llmops/contracts';
import { GrpcCallError } from '@llmops/platform-grpc';
import { Validator } from '@seriousme/openapi-schema-validator';
import { CostsController } from './costs.controller.js';
import { startLlmRouteTestBed, type LlmRouteTestBed } from './testing/llm-route-test-bed.js';

const report = create(GetCostReportResponseSchema, {
  namespace: 'acme/chat',
  month: '2025-03',
  environment: 'production',
  totals: { requests: 3n, failedRequests: 1n, inputTokens: 3_000_000n, outputTokens: 100_000n, costUsd: 7.5, costPerRequestUsd: 2.5, costPerSuccessfulRequestUsd: 3.75 },
  models: [
    {
      provider: 'openai',
      model: 'gpt-4o',
      figures: { requests: 3n, failedRequests: 1n, inputTokens: 3_000_000n, outputTokens: 100_000n, costUsd: 7.5, costPerRequestUsd: 2.5, costPerSuccessfulRequestUsd: 3.75 },
      endpoints: [{ name: 'main', environment: 'production' }],
      alternatives: [{ provider: 'openai', model: 'gpt-4o-mini', costUsd: 0.51, differenceUsd: -6.99 }],
    },
    {
      provider: 'anthropic',
      model: 'claude-3-haiku',
      // Every request failed: no cost per successful request.
      figures: { requests: 1n, failedRequests: 1n, costUsd: 0 },
    },
  ],
  recommendations: [
    {
      provider: 'openai',
      model: 'gpt-4o',
      alternativeProvider: 'openai',
      alternativeModel: 'gpt-4o-mini',
      costUsd: 7.5,
      alternativeCostUsd: 0.51,
      savingUsd: 6.99,
      savingPercent: 93.2,
      summary: 'openai/gpt-4o-mini would have cost $0.51 instead of $7.50 … This compares cost only.',
    },
  ],
  minSavingPercent: 20,
});

describe(CostsController.name, () => {
  let bed: LlmRouteTestBed;

  beforeAll(async () => {
    bed = await startLlmRouteTestBed([CostsController], { getCostReport: () => report });
  });

  afterAll(async () => {
    await bed?.close();
  });

  beforeEach(() => bed.reset());

  const get = (url: string) => bed.send('GET', url);

  it('answers the report in snake_case with configs:read in every environment, as a budget report', async () => {
    const response = await get('/api/v1/costs/acme/chat?month=2025-03&environment=staging');
    expect(response.statusCode).toBe(200);
    const figures = {
      requests: 3,
      failed_requests: 1,
      input_tokens: 3_000_000,
      output_tokens: 100_000,
      cost_usd: 7.5,
      cost_per_request_usd: 2.5,
      cost_per_successful_request_usd: 3.75,
    };
    expect(response.json()).toEqual({
      namespace: 'acme/chat',
      month: '2025-03',
      environment: 'production',
      totals: figures,
      models: [
        {
          provider: 'openai',
          model: 'gpt-4o',
          figures,
          endpoints: [{ name: 'main', environment: 'production' }],
          alternatives: [{ provider: 'openai', model: 'gpt-4o-mini', cost_usd: 0.51, difference_usd: -6.99 }],
        },
        {
          provider: 'anthropic',
          model: 'claude-3-haiku',
          figures: {
            requests: 1,
            failed_requests: 1,
            input_tokens: 0,
            output_tokens: 0,
            cost_usd: 0,
            cost_per_request_usd: null,
            cost_per_successful_request_usd: null,
          },
          endpoints: [],
          alternatives: [],
        },
      ],
      recommendations: [
        {
          provider: 'openai',
          model: 'gpt-4o',
          alternative_provider: 'openai',
          alternative_model: 'gpt-4o-mini',
          cost_usd: 7.5,
          alternative_cost_usd: 0.51,
          saving_usd: 6.99,
          saving_percent: 93.2,
          summary: 'openai/gpt-4o-mini would have cost $0.51 instead of $7.50 … This compares cost only.',
        },
      ],
      min_saving_percent: 20,
    });
    expect(bed.calls).toEqual([{ method: 'getCostReport', request: { namespace: 'acme/chat', month: '2025-03', environment: 'staging' } }]);
    expect(bed.demanded).toEqual([{ permission: 'configs:read', environment: undefined }]);
    await get('/api/v1/costs/acme');
    expect(bed.calls.at(-1)?.request).toEqual({ namespace: 'acme', month: '', environment: '' });
  });

  it('answers 400 for a bad month or environment parameter without asking config-manager', async () => {
    for (const url of ['/api/v1/costs/acme?month=2025-3', '/api/v1/costs/acme?environment=', '/api/v1/costs/acme?environment=a&environment=b']) {
      const response = await get(url);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_ERROR');
    }
    expect((await get('/api/v1/costs/acme?month=2025-3')).json().error.message).toBe('query parameter month must be YYYY-MM (from 0001-01)');
    expect((await get('/api/v1/costs/acme?environment=')).json().error.message).toContain('query parameter environment');
    expect(bed.calls).toEqual([]);
  });

  it("passes config-manager's refusals on: a bad field is 400 naming it, a missing permission 403", async () => {
    bed.failWith(new GrpcCallError(status.INVALID_ARGUMENT, 'month 2999-01 has not begun', { 'error-field': 'month' }));
    const future = await get('/api/v1/costs/acme?month=2999-01');
    expect(future.statusCode).toBe(400);
    expect(future.json().error).toMatchObject({ code: 'VALIDATION_ERROR', message: 'month 2999-01 has not begun' });
    bed.failWith(new GrpcCallError(status.PERMISSION_DENIED, 'role developer may not read configs in production'));
    expect((await get('/api/v1/costs/acme')).statusCode).toBe(403);
  });

  it('documents the route in a valid OpenAPI 3 document', async () => {
    const document = SwaggerModule.createDocument(bed.app, new DocumentBuilder().setTitle('test').setVersion('1').build());
    const validation = await new Validator().validate(document as never);
    expect(validation.errors ?? []).toEqual([]);
    const [, route] = Object.entries(document.paths).find(([name]) => name.startsWith('/api/v1/costs/'))!;
    expect(Object.keys(route)).toEqual(['get']);
    expect(route.get?.summary).toContain('cost only');
    expect(route.get?.parameters?.map((parameter) => ('name' in parameter ? parameter.name : undefined))).toEqual(expect.arrayContaining(['month', 'environment']));
  });
});
