import { describe, expect, it } from '@jest/globals';
import { LlmConfigKind } from '@llmops/contracts';
import type { FastifyRequest } from 'fastify';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { GatewayErrorCode } from '../errors/gateway.exception.js';
import { rejection, validationMessage } from '../testing/route-testing.js';
import {
  environmentOfLabel,
  llmConfigKindOf,
  namespaceAndNameOf,
  namespaceQueryOf,
  pricingEnvironmentQueryOf,
  promptTargetOf,
  recordUsageBody,
  renderEnvironmentOf,
  renderPromptBody,
  setPromptLabelBody,
  usageEnvironmentOf,
} from './llm-config-requests.js';

const withBody = (body: unknown): FastifyRequest => ({ body }) as FastifyRequest;

describe('LLM config requests', () => {
  it('maps the REST kinds and answers 404 for any other', () => {
    expect(llmConfigKindOf('failover-chains')).toBe(LlmConfigKind.FAILOVER_CHAIN);
    expect(rejection(() => llmConfigKindOf('models')).code).toBe(GatewayErrorCode.NotFound);
    expect(namespaceAndNameOf('acme/chat/gpt-4o', 'x')).toEqual({ namespace: 'acme/chat', name: 'gpt-4o' });
    expect(validationMessage(() => namespaceAndNameOf('acme', 'acme/chatbot/gpt-4o'))).toContain('<namespace>/<name>');
    expect(namespaceQueryOf('acme/support')).toBe('acme/support');
    for (const missing of [undefined, '', ['a', 'b']]) expect(validationMessage(() => namespaceQueryOf(missing))).toContain('?namespace=');
  });

  it('reads prompt paths from their end, whatever the namespace segments are called', () => {
    expect(promptTargetOf('acme/support/answer')).toEqual({ kind: 'prompt', namespace: 'acme/support', name: 'answer' });
    expect(promptTargetOf('acme/versions/answer/versions/1.2.3')).toEqual({ kind: 'version', namespace: 'acme/versions', name: 'answer', version: '1.2.3' });
    expect(promptTargetOf('acme/answer/labels/production')).toEqual({ kind: 'label', namespace: 'acme', name: 'answer', label: 'production' });
    expect(promptTargetOf('acme/answer/versions')).toEqual({ kind: 'versions', namespace: 'acme', name: 'answer' });
    expect(promptTargetOf('acme/answer/render')).toEqual({ kind: 'render', namespace: 'acme', name: 'answer' });
    expect(validationMessage(() => promptTargetOf('answer/render'))).toContain('<namespace>/<prompt name>');
  });

  it('guards labels named like environments as those environments, and renders by their label', () => {
    expect(environmentOfLabel('production')).toBe('production');
    expect(environmentOfLabel('canary')).toBe('development');
    expect(renderEnvironmentOf(withBody({ variables: {} }))).toBe('production');
    expect(renderEnvironmentOf(withBody({ label: 'staging' }))).toBe('staging');
    expect(renderEnvironmentOf(withBody({ version: '1.0.0' }))).toBe('development');
    expect(usageEnvironmentOf(withBody({ environment: 'staging' }))).toBe('staging');
    expect(usageEnvironmentOf(withBody(undefined))).toBe('production');
    expect(pricingEnvironmentQueryOf(undefined)).toBe('');
    expect(pricingEnvironmentQueryOf('staging')).toBe('staging');
    for (const bad of ['', ['a', 'b']]) expect(validationMessage(() => pricingEnvironmentQueryOf(bad))).toContain('query parameter environment');
  });

  it('names the field that is wrong in prompt, label and usage bodies', () => {
    const render = new ZodBodyPipe(renderPromptBody);
    expect(render.transform({ label: 'production', variables: { n: 3, ok: true } })).toEqual({ label: 'production', variables: { n: 3, ok: true } });
    expect(validationMessage(() => render.transform({ label: 'a', version: '1.0.0' }))).toBe('label: give label or version, not both');
    expect(validationMessage(() => render.transform({ variables: { nested: { a: 1 } } }))).toContain('variables.nested');
    const label = new ZodBodyPipe(setPromptLabelBody);
    expect(validationMessage(() => label.transform({}))).toBe('version: give version or variants, not both');
    expect(validationMessage(() => label.transform({ variants: [{ version: '1.0.0', weight: 0 }] }))).toContain('variants.0.weight');
    const usage = new ZodBodyPipe(recordUsageBody);
    expect(validationMessage(() => usage.transform({ request_id: 'r 1', provider: 'openai', model: 'm', input_tokens: 1, output_tokens: 1 }))).toContain('request_id');
    expect(validationMessage(() => usage.transform({ request_id: 'r1', provider: 'openai', model: 'm', input_tokens: -1, output_tokens: 1 }))).toContain('input_tokens');
    expect(validationMessage(() => usage.transform({ request_id: 'r1', provider: 'openai', model: 'm', input_tokens: 1, output_tokens: 1, failed: 'yes' }))).toContain('failed');
  });
});
