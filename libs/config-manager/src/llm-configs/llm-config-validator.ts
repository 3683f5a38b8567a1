import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { ConfigException, ConfigExceptionCode } from '../configs/exceptions/config.exception.js';
import type { ValidationProblem } from '../namespace-settings/schema-validator.js';
import { LLM_CONFIG_KINDS, type FailoverChain, type LlmConfigKindName } from './llm-config-kinds.js';

const KIND_LABELS: Record<LlmConfigKindName, string> = {
  model_endpoint: 'model endpoint',
  failover_chain: 'failover chain',
  parameter_preset: 'parameter preset',
  model_pricing: 'model pricing',
};

/**
 * Checks a value against its kind's built-in schema and fills in the schema's defaults (the breaker settings of a
 * failover chain), so what is stored says exactly what applies. Problems a schema cannot express (a plaintext API
 * key's own message, a chain that falls back to its primary) are checked here too.
 */
export class LlmConfigValidator {
  private readonly compiled: Record<LlmConfigKindName, ValidateFunction>;

  constructor() {
    const ajv = new Ajv2020({ allErrors: true, strict: false, useDefaults: true });
    this.compiled = {
      model_endpoint: ajv.compile(LLM_CONFIG_KINDS.model_endpoint.schema),
      failover_chain: ajv.compile(LLM_CONFIG_KINDS.failover_chain.schema),
      parameter_preset: ajv.compile(LLM_CONFIG_KINDS.parameter_preset.schema),
      model_pricing: ajv.compile(LLM_CONFIG_KINDS.model_pricing.schema),
    };
  }

  /** The value with defaults filled in (a copy; the input is left alone) and what is wrong with it. */
  check(kind: LlmConfigKindName, value: unknown): { value: unknown; problems: ValidationProblem[] } {
    const copy: unknown = value === undefined ? undefined : structuredClone(value);
    const plaintextKey = kind === 'model_endpoint' && isObject(copy) && typeof copy.api_key === 'string';
    if (plaintextKey) {
      return {
        value: copy,
        problems: [
          {
            path: '/api_key',
            message: 'must be a secret reference {"$secret": "<path>"} (optionally with "field"): a plaintext API key is never stored in a config',
          },
        ],
      };
    }
    const validate = this.compiled[kind];
    if (!validate(copy)) {
      return { value: copy, problems: (validate.errors ?? []).map((error) => ({ path: error.instancePath, message: error.message ?? error.keyword })) };
    }
    if (kind === 'failover_chain') {
      const chain = copy as FailoverChain;
      const index = chain.fallbacks.indexOf(chain.primary);
      if (index >= 0) return { value: copy, problems: [{ path: `/fallbacks/${index}`, message: 'must not repeat the primary endpoint' }] };
    }
    return { value: copy, problems: [] };
  }

  /** The value with defaults filled in; throws INVALID_VALUE naming every problem. */
  assertValid(kind: LlmConfigKindName, key: string, value: unknown): unknown {
    if (value === undefined) throw new ConfigException(ConfigExceptionCode.InvalidValue, 'value is required', 'value');
    const { value: checked, problems } = this.check(kind, value);
    if (problems.length > 0) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, `${key} is not a valid ${KIND_LABELS[kind]}: ${describe(problems)}`, fieldOf(problems));
    }
    return checked;
  }
}

export function kindLabelOf(kind: LlmConfigKindName): string {
  return KIND_LABELS[kind];
}

export function describe(problems: ValidationProblem[]): string {
  return problems.map((problem) => `${problem.path || '(value)'} ${problem.message}`).join('; ');
}

/** `value.api_key` for the first problem's pointer `/api_key`: the field a client has to fix. */
function fieldOf(problems: ValidationProblem[]): string {
  const pointer = problems[0]?.path ?? '';
  return pointer === '' ? 'value' : `value.${pointer.slice(1).replaceAll('/', '.')}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
