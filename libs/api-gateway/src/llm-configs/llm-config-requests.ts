import { LlmConfigKind } from '@llmops/contracts';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { MAX_VERSION } from '../access/query-integer.js';

/** The kinds as the REST paths name them: `/api/v1/llm/<kind>/…`. */
export const LLM_CONFIG_KIND_PATHS = {
  endpoints: LlmConfigKind.MODEL_ENDPOINT,
  'failover-chains': LlmConfigKind.FAILOVER_CHAIN,
  presets: LlmConfigKind.PARAMETER_PRESET,
  pricing: LlmConfigKind.MODEL_PRICING,
} as const;
export type LlmConfigKindPath = keyof typeof LLM_CONFIG_KIND_PATHS;

export function llmConfigKindOf(path: string): LlmConfigKind {
  const kind = (LLM_CONFIG_KIND_PATHS as Record<string, LlmConfigKind | undefined>)[path];
  if (kind === undefined) {
    throw new GatewayException(GatewayErrorCode.NotFound, `/api/v1/llm/<kind> serves the kinds ${Object.keys(LLM_CONFIG_KIND_PATHS).join(', ')}`);
  }
  return kind;
}

export const putLlmConfigBody = z.strictObject({
  value: z.json().refine((v) => v !== undefined, 'is required'),
  expected_version: z.number().int().min(0).max(MAX_VERSION).optional(),
});
export type PutLlmConfigBody = z.output<typeof putLlmConfigBody>;

/** `acme/chatbot/gpt-4o` → namespace `acme/chatbot`, name `gpt-4o`; segment rules are config-manager's to enforce. */
export function namespaceAndNameOf(path: string | undefined, example: string): { namespace: string; name: string } {
  const segments = segmentsOf(path);
  if (segments.length < 2) throw new GatewayException(GatewayErrorCode.ValidationError, `path must be <namespace>/<name>, e.g. ${example}`);
  return { namespace: segments.slice(0, -1).join('/'), name: segments.at(-1)! };
}

/** The `namespace` query parameter of a listing, e.g. `?namespace=acme/chatbot`; config-manager checks its segments. */
export function namespaceQueryOf(namespace: unknown): string {
  if (typeof namespace !== 'string' || namespace === '') {
    throw new GatewayException(GatewayErrorCode.ValidationError, 'query parameter namespace is required, e.g. ?namespace=acme/chatbot');
  }
  return namespace;
}

export function namespaceFromPath(path: string | undefined): string {
  const namespace = segmentsOf(path).join('/');
  if (namespace === '') throw new GatewayException(GatewayErrorCode.ValidationError, 'path must be a namespace, e.g. acme/chatbot');
  return namespace;
}

/** What a path under /api/v1/prompts names: a prompt, one of its versions, one of its labels, or an action on it. */
export type PromptTarget =
  | { kind: 'prompt'; namespace: string; name: string }
  | { kind: 'version'; namespace: string; name: string; version: string }
  | { kind: 'versions'; namespace: string; name: string }
  | { kind: 'label'; namespace: string; name: string; label: string }
  | { kind: 'render'; namespace: string; name: string };

/**
 * Reads a prompt path from its end: `<ns>/<name>/versions/<x.y.z>`, `<ns>/<name>/labels/<label>`, `<ns>/<name>/versions`,
 * `<ns>/<name>/render`, else `<ns>/<name>`. Prompt names start with a letter and are never versions, labels or render
 * (config-manager enforces it), so no prompt path reads two ways.
 */
export function promptTargetOf(path: string | undefined): PromptTarget {
  const segments = segmentsOf(path);
  const at = (offset: number): string | undefined => segments.at(offset);
  const prompt = (length: number): { namespace: string; name: string } => {
    if (length < 2) throw new GatewayException(GatewayErrorCode.ValidationError, 'path must start with <namespace>/<prompt name>, e.g. acme/support/answer');
    return { namespace: segments.slice(0, length - 1).join('/'), name: segments[length - 1]! };
  };
  if (segments.length >= 4 && at(-2) === 'versions') return { kind: 'version', ...prompt(segments.length - 2), version: at(-1)! };
  if (segments.length >= 4 && at(-2) === 'labels') return { kind: 'label', ...prompt(segments.length - 2), label: at(-1)! };
  if (at(-1) === 'versions') return { kind: 'versions', ...prompt(segments.length - 1) };
  if (at(-1) === 'render') return { kind: 'render', ...prompt(segments.length - 1) };
  return { kind: 'prompt', ...prompt(segments.length) };
}

/** The same rule config-manager applies (and enforces again): a label named like an environment is guarded as it. */
const ENVIRONMENT_LABELS = ['base', 'development', 'staging', 'production'];
export function environmentOfLabel(label: string): string {
  return ENVIRONMENT_LABELS.includes(label) ? label : 'development';
}

const variableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a name of letters, digits and _');

export const createPromptVersionBody = z.strictObject({
  version: z.string().min(1),
  template: z.string().min(1),
  variables: z
    .array(
      z.strictObject({
        name: variableName,
        required: z.boolean().default(true),
        default: z.string().optional(),
        description: z.string().max(500).default(''),
      }),
    )
    .max(100)
    .optional(),
  description: z.string().max(1000).default(''),
});
export type CreatePromptVersionBody = z.output<typeof createPromptVersionBody>;

const variant = z.strictObject({ version: z.string().min(1), weight: z.number().int().min(1).max(1_000_000) });

/** `{"version"}` for a plain label, `{"variants": [...]}` for an A/B split. */
export const setPromptLabelBody = z
  .strictObject({
    version: z.string().min(1).optional(),
    variants: z.array(variant).min(1).max(10).optional(),
    expected_revision: z.number().int().min(0).optional(),
  })
  .refine((body) => (body.version === undefined) !== (body.variants === undefined), { message: 'give version or variants, not both', path: ['version'] });
export type SetPromptLabelBody = z.output<typeof setPromptLabelBody>;

export const renderPromptBody = z
  .strictObject({
    label: z.string().min(1).optional(),
    version: z.string().min(1).optional(),
    variables: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string, number or boolean' })).default({}),
    subject: z.string().min(1).max(256).optional(),
  })
  .refine((body) => body.label === undefined || body.version === undefined, { message: 'give label or version, not both', path: ['label'] });
export type RenderPromptBody = z.output<typeof renderPromptBody>;

/** The environment a render needs configs:read in: its label's; a version (or no label: production) as config-manager decides. */
export function renderEnvironmentOf(request: FastifyRequest): string {
  const body = (request.body ?? {}) as { label?: unknown; version?: unknown };
  if (typeof body.version === 'string' && body.version !== '') return 'development';
  return environmentOfLabel(typeof body.label === 'string' && body.label !== '' ? body.label : 'production');
}

export const putBudgetBody = z.strictObject({
  // A budget under a cent is no budget (config-manager refuses it too).
  monthly_usd: z.number().min(0.01, 'must be at least 0.01').max(1_000_000_000),
  expected_version: z.number().int().min(0).max(MAX_VERSION).optional(),
});
export type PutBudgetBody = z.output<typeof putBudgetBody>;

export const recordUsageBody = z.strictObject({
  request_id: z.string().regex(/^[\w.:-]{1,128}$/, 'must be 1 to 128 letters, digits, _, ., : or -'),
  provider: z.string().min(1),
  model: z.string().min(1).max(200),
  input_tokens: z.number().int().min(0),
  output_tokens: z.number().int().min(0),
  environment: z.string().min(1).optional(),
  occurred_at: z.iso.datetime({ offset: true }).optional(),
  failed: z.boolean().optional(),
});
export type RecordUsageBody = z.output<typeof recordUsageBody>;

/** Usage is priced, and authorized (usage:record), in the environment it names; production when it names none. */
export function usageEnvironmentOf(request: FastifyRequest): string {
  const environment = (request.body as { environment?: unknown } | undefined)?.environment;
  return typeof environment === 'string' && environment !== '' ? environment : 'production';
}

export function monthQueryOf(month: unknown): string {
  if (month === undefined) return '';
  // Year 0000 does not exist (PostgreSQL refuses it); the first month is 0001-01.
  if (typeof month !== 'string' || !/^(?!0000)\d{4}-(0[1-9]|1[0-2])$/.test(month)) {
    throw new GatewayException(GatewayErrorCode.ValidationError, 'query parameter month must be YYYY-MM (from 0001-01)');
  }
  return month;
}

/** The `environment` query parameter of a cost report: whose pricing the alternatives use; '' (production) when absent. */
export function pricingEnvironmentQueryOf(environment: unknown): string {
  if (environment === undefined) return '';
  if (typeof environment !== 'string' || environment === '') {
    throw new GatewayException(GatewayErrorCode.ValidationError, 'query parameter environment must be an environment name, e.g. staging');
  }
  return environment;
}

function segmentsOf(path: string | undefined): string[] {
  const segments = (path ?? '').split('/');
  if (segments.at(-1) === '') segments.pop();
  return segments;
}
