import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import {
  DeletePromptLabelResponseSchema,
  ListPromptsResponseSchema,
  PromptLabelSchema,
  RecordUsageResponseSchema,
} from '@llmops/contracts';
import { GrpcCallError } from '@llmops/platform-grpc';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startLlmRouteTestBed, type LlmRouteTestBed } from './testing/llm-route-test-bed.js';
import { PromptsController } from './prompts.controller.js';
import { UsageController } from './usage.controller.js';

const at = timestampFromDate(new Date('2025-03-04T05:06:07.008Z'));
const staging = create(PromptLabelSchema, { label: 'staging', variants: [{ version: '1.1.0', weight: 1 }], revision: 2n, updatedBy: 'u-1', updatedAt: at });

const answers = {
  listPrompts: () =>
    create(ListPromptsResponseSchema, {
      prompts: [{ namespace: 'acme/support', name: 'answer', latestVersion: '1.1.0', labels: [staging], createdBy: 'u-0', createdAt: at, updatedAt: at }],
    }),
  deletePromptLabel: () => create(DeletePromptLabelResponseSchema, { label: staging }),
  recordUsage: (request: { failed: boolean }) =>
    create(RecordUsageResponseSchema, { usage: { namespace: 'acme/chat', requestId: 'r-1', costUsd: 0.5, occurredAt: at, failed: request.failed } }),
};

describe(PromptsController.name, () => {
  let bed: LlmRouteTestBed;

  beforeAll(async () => {
    bed = await startLlmRouteTestBed([PromptsController, UsageController], answers);
  });

  afterAll(async () => {
    await bed?.close();
  });

  beforeEach(() => bed.reset());

  const send: LlmRouteTestBed['send'] = (...args) => bed.send(...args);

  it("lists a namespace's prompts with configs:read in development", async () => {
    const response = await send('GET', '/api/v1/prompts?namespace=acme/support');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      data: [
        {
          namespace: 'acme/support',
          name: 'answer',
          latest_version: '1.1.0',
          labels: [{ label: 'staging', variants: [{ version: '1.1.0', weight: 1 }], revision: 2, updated_by: 'u-1', updated_at: '2025-03-04T05:06:07.008Z' }],
          created_by: 'u-0',
          created_at: '2025-03-04T05:06:07.008Z',
          updated_at: '2025-03-04T05:06:07.008Z',
        },
      ],
    });
    expect(bed.calls).toEqual([{ method: 'listPrompts', request: { namespace: 'acme/support' } }]);
    expect(bed.demanded).toEqual([{ permission: 'configs:read', environment: 'development' }]);
    const missing = await send('GET', '/api/v1/prompts');
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.message).toBe('query parameter namespace is required, e.g. ?namespace=acme/chatbot');
  });

  it('removes a label with the permission that moves it, and If-Match as the revision it must be at', async () => {
    const response = await send('DELETE', '/api/v1/prompts/acme/support/answer/labels/staging', undefined, { 'if-match': '"2"' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ label: 'staging', variants: [{ version: '1.1.0', weight: 1 }], revision: 2, updated_by: 'u-1', updated_at: '2025-03-04T05:06:07.008Z' });
    expect(bed.calls).toEqual([
      { method: 'deletePromptLabel', request: { namespace: 'acme/support', name: 'answer', label: 'staging', expectedRevision: 2n } },
    ]);
    expect(bed.demanded).toEqual([{ permission: 'configs:write', environment: 'staging' }]);
    await send('DELETE', '/api/v1/prompts/acme/answer/labels/canary');
    expect(bed.calls.at(-1)?.request).toEqual({ namespace: 'acme', name: 'answer', label: 'canary', expectedRevision: undefined });
    expect(bed.demanded.at(-1)).toEqual({ permission: 'configs:write', environment: 'development' });
  });

  it('answers 404 for a DELETE that names no label, without asking config-manager', async () => {
    const response = await send('DELETE', '/api/v1/prompts/acme/support/answer');
    expect(response.statusCode).toBe(404);
    expect(response.json().error.message).toContain('DELETE <ns>/<name>/labels/<label>');
    expect(bed.calls).toEqual([]);
  });

  it("passes config-manager's refusals on: a missing label is 404 naming it, a stale revision 409", async () => {
    bed.failWith(new GrpcCallError(status.NOT_FOUND, 'prompt acme/support/answer has no label staging'));
    const missing = await send('DELETE', '/api/v1/prompts/acme/support/answer/labels/staging');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ code: 'NOT_FOUND', message: 'prompt acme/support/answer has no label staging' });
    bed.failWith(new GrpcCallError(status.ABORTED, 'label staging of acme/support/answer is at revision 3, not 2'));
    expect((await send('DELETE', '/api/v1/prompts/acme/support/answer/labels/staging', undefined, { 'if-match': '2' })).statusCode).toBe(409);
  });

  it('records usage with usage:record in the environment whose pricing applies', async () => {
    const body = { request_id: 'r-1', provider: 'openai', model: 'gpt-4o', input_tokens: 10, output_tokens: 2 };
    expect((await send('POST', '/api/v1/usage/acme/chat', body)).statusCode).toBe(200);
    expect((await send('POST', '/api/v1/usage/acme/chat', { ...body, environment: 'staging' })).statusCode).toBe(200);
    expect(bed.demanded).toEqual([
      { permission: 'usage:record', environment: 'production' },
      { permission: 'usage:record', environment: 'staging' },
    ]);
    // A failed LLM request is recorded as one; not saying so records a success.
    const failed = await send('POST', '/api/v1/usage/acme/chat', { ...body, request_id: 'r-2', failed: true });
    expect(failed.json()).toMatchObject({ cost_usd: 0.5, failed: true, duplicate: false });
    expect(bed.calls.map((call) => (call.request as { failed: boolean }).failed)).toEqual([false, false, true]);
  });

  it('documents the new routes in a valid OpenAPI 3 document', async () => {
    const document = SwaggerModule.createDocument(bed.app, new DocumentBuilder().setTitle('test').setVersion('1').build());
    const validation = await new Validator().validate(document as never);
    expect(validation.errors ?? []).toEqual([]);
    expect(Object.keys(document.paths['/api/v1/prompts'] ?? {})).toEqual(['get']);
    const [, wildcard] = Object.entries(document.paths).find(([name]) => name.startsWith('/api/v1/prompts/'))!;
    expect(Object.keys(wildcard)).toEqual(expect.arrayContaining(['get', 'post', 'put', 'delete']));
    expect(wildcard.delete?.summary).toContain('remove a label');
  });
});
