/**
 * The LLM configuration kinds of seed 001 §6 that are stored as ordinary configs under `<prefix>.<name>`, with the
 * built-in JSON Schema (draft 2020-12) each value must satisfy and the parameter presets of §6.3.
 */
export type LlmConfigKindName = 'model_endpoint' | 'failover_chain' | 'parameter_preset' | 'model_pricing';

/** Providers of seed 001 §6.1. */
export const LLM_PROVIDERS = ['openai', 'anthropic', 'aws_bedrock', 'azure_openai', 'gcp_vertex', 'cohere', 'huggingface', 'custom'] as const;
export type LlmProvider = (typeof LLM_PROVIDERS)[number];

/** Providers whose API is called with an API key; the others authenticate with cloud credentials or none. */
const API_KEY_PROVIDERS: readonly LlmProvider[] = ['openai', 'anthropic', 'azure_openai', 'cohere'];
/** Providers without one well-known base URL. */
const BASE_URL_PROVIDERS: readonly LlmProvider[] = ['azure_openai', 'custom'];

/** Seed 001 §6.1: the breaker opens after 3 consecutive failures and lets one request through after 60 s. */
export const CIRCUIT_BREAKER_DEFAULTS = { failure_threshold: 3, half_open_after_seconds: 60, half_open_max_requests: 1 } as const;
export const MAX_FALLBACKS = 10;

/** A config name after the kind's prefix: no dots, so `<prefix>.<name>` is one key that stays within 63 characters. */
export const LLM_CONFIG_NAME = /^[a-z0-9][a-z0-9_-]{0,49}$/;

const secretReference = {
  type: 'object',
  required: ['$secret'],
  additionalProperties: false,
  properties: {
    $secret: { type: 'string', minLength: 1, maxLength: 512 },
    field: { type: 'string', minLength: 1, maxLength: 128 },
  },
};

const sampling = {
  temperature: { type: 'number', minimum: 0, maximum: 2 },
  top_p: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
  top_k: { type: 'integer', minimum: 1, maximum: 1000 },
  max_tokens: { type: 'integer', minimum: 1, maximum: 1_000_000 },
  presence_penalty: { type: 'number', minimum: -2, maximum: 2 },
  frequency_penalty: { type: 'number', minimum: -2, maximum: 2 },
  stop: { type: 'array', maxItems: 4, items: { type: 'string', minLength: 1, maxLength: 200 } },
  seed: { type: 'integer' },
};

const configName = { type: 'string', pattern: LLM_CONFIG_NAME.source };

const modelEndpointSchema = {
  type: 'object',
  required: ['provider', 'model'],
  additionalProperties: false,
  properties: {
    provider: { enum: LLM_PROVIDERS },
    model: { type: 'string', minLength: 1, maxLength: 200 },
    // http(s), and no user:password@ in it: credentials belong in secrets.
    base_url: { type: 'string', maxLength: 2048, pattern: '^https?://[^\\s/@]+(/[^\\s@]*)?$' },
    api_key: secretReference,
    region: { type: 'string', pattern: '^[a-z0-9-]{1,32}$' },
    deployment: { type: 'string', minLength: 1, maxLength: 200 },
    api_version: { type: 'string', minLength: 1, maxLength: 64 },
    timeout_ms: { type: 'integer', minimum: 1, maximum: 600_000 },
    default_parameters: { type: 'object', additionalProperties: false, properties: sampling },
  },
  allOf: [
    { if: { properties: { provider: { enum: API_KEY_PROVIDERS } } }, then: { required: ['api_key'] } },
    { if: { properties: { provider: { enum: BASE_URL_PROVIDERS } } }, then: { required: ['base_url'] } },
  ],
};

const failoverChainSchema = {
  type: 'object',
  required: ['primary'],
  additionalProperties: false,
  properties: {
    primary: configName,
    fallbacks: { type: 'array', maxItems: MAX_FALLBACKS, uniqueItems: true, items: configName, default: [] },
    circuit_breaker: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        failure_threshold: { type: 'integer', minimum: 1, maximum: 100, default: CIRCUIT_BREAKER_DEFAULTS.failure_threshold },
        half_open_after_seconds: { type: 'integer', minimum: 1, maximum: 86_400, default: CIRCUIT_BREAKER_DEFAULTS.half_open_after_seconds },
        half_open_max_requests: { type: 'integer', minimum: 1, maximum: 100, default: CIRCUIT_BREAKER_DEFAULTS.half_open_max_requests },
      },
    },
  },
};

const parameterPresetSchema = {
  type: 'object',
  required: ['temperature', 'top_p'],
  additionalProperties: false,
  properties: { ...sampling, description: { type: 'string', maxLength: 500 } },
};

const modelPrice = {
  type: 'object',
  required: ['input_usd_per_million', 'output_usd_per_million'],
  additionalProperties: false,
  properties: {
    input_usd_per_million: { type: 'number', minimum: 0, maximum: 100_000 },
    output_usd_per_million: { type: 'number', minimum: 0, maximum: 100_000 },
  },
};

const modelPricingSchema = {
  type: 'object',
  required: ['models'],
  additionalProperties: false,
  properties: {
    currency: { const: 'USD', default: 'USD' },
    models: {
      type: 'object',
      minProperties: 1,
      maxProperties: 500,
      propertyNames: { minLength: 1, maxLength: 200 },
      additionalProperties: modelPrice,
    },
  },
};

export interface LlmConfigKindDefinition {
  kind: LlmConfigKindName;
  /** Keys of this kind are `<prefix>.<name>`. */
  prefix: string;
  schema: object;
  /** What a name is, for messages: pricing is named by its provider. */
  nameIs: string;
}

export const LLM_CONFIG_KINDS: Record<LlmConfigKindName, LlmConfigKindDefinition> = {
  model_endpoint: { kind: 'model_endpoint', prefix: 'endpoint', schema: modelEndpointSchema, nameIs: 'endpoint name' },
  failover_chain: { kind: 'failover_chain', prefix: 'failover', schema: failoverChainSchema, nameIs: 'chain name' },
  parameter_preset: { kind: 'parameter_preset', prefix: 'preset', schema: parameterPresetSchema, nameIs: 'preset name' },
  model_pricing: { kind: 'model_pricing', prefix: 'pricing', schema: modelPricingSchema, nameIs: 'provider' },
};

export function keyOf(kind: LlmConfigKindName, name: string): string {
  return `${LLM_CONFIG_KINDS[kind].prefix}.${name}`;
}

/** `endpoint.gpt-4o` → `gpt-4o` when the key is of `kind`, else undefined. */
export function nameOf(kind: LlmConfigKindName, key: string): string | undefined {
  const prefix = `${LLM_CONFIG_KINDS[kind].prefix}.`;
  return key.startsWith(prefix) ? key.slice(prefix.length) : undefined;
}

export interface ParameterPreset {
  temperature: number;
  top_p: number;
  description: string;
}

/** Seed 001 §6.3, readable in every namespace without being written; a `preset.<name>` config overrides one. */
export const BUILT_IN_PRESETS: Readonly<Record<string, ParameterPreset>> = {
  'development-creative': { temperature: 0.9, top_p: 0.95, description: 'Exploration during development' },
  'production-deterministic': { temperature: 0.3, top_p: 0.9, description: 'Consistent answers in production' },
  'code-generation': { temperature: 0.4, top_p: 0.95, description: 'Balanced code generation' },
  'customer-support': { temperature: 0.7, top_p: 0.9, description: 'Empathetic customer support' },
  'data-extraction': { temperature: 0.1, top_p: 0.85, description: 'Precise data extraction' },
};

export interface ModelPrice {
  input_usd_per_million: number;
  output_usd_per_million: number;
}

export interface ModelPricing {
  currency: 'USD';
  models: Record<string, ModelPrice>;
}

export interface FailoverChain {
  primary: string;
  fallbacks: string[];
  circuit_breaker: { failure_threshold: number; half_open_after_seconds: number; half_open_max_requests: number };
}
