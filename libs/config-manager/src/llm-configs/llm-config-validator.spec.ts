import { describe, expect, it } from '@jest/globals';
import { ConfigException, ConfigExceptionCode } from '../configs/exceptions/config.exception.js';
import { BUILT_IN_PRESETS } from './llm-config-kinds.js';
import { LlmConfigValidator } from './llm-config-validator.js';

const validator = new LlmConfigValidator();

function rejection(run: () => unknown): ConfigException {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigException) return error;
    throw error;
  }
  throw new Error('expected the value to be rejected');
}

const endpoint = {
  provider: 'openai',
  model: 'gpt-4o',
  base_url: 'https://api.openai.com/v1',
  api_key: { $secret: 'acme/openai', field: 'key' },
  default_parameters: { temperature: 0.3, max_tokens: 1024 },
};

describe(LlmConfigValidator.name, () => {
  describe('model endpoints', () => {
    it('accepts an endpoint whose API key is a secret reference', () => {
      expect(validator.assertValid('model_endpoint', 'endpoint.gpt-4o', endpoint)).toEqual(endpoint);
    });

    it('refuses a plaintext API key, saying a secret reference is needed', () => {
      const error = rejection(() => validator.assertValid('model_endpoint', 'endpoint.gpt-4o', { ...endpoint, api_key: 'sk-live-123' }));
      expect(error.code).toBe(ConfigExceptionCode.InvalidValue);
      expect(error.field).toBe('value.api_key');
      expect(error.message).toContain('must be a secret reference {"$secret": "<path>"}');
      expect(error.message).not.toContain('sk-live-123');
    });

    it('needs an API key for key-based providers and a base URL for Azure and custom ones', () => {
      const { api_key: _omitted, ...keyless } = endpoint;
      expect(rejection(() => validator.assertValid('model_endpoint', 'endpoint.x', keyless)).message).toContain("must have required property 'api_key'");
      expect(validator.assertValid('model_endpoint', 'endpoint.x', { provider: 'aws_bedrock', model: 'anthropic.claude-3-sonnet', region: 'us-east-1' })).toBeTruthy();
      const azure = rejection(() => validator.assertValid('model_endpoint', 'endpoint.x', { provider: 'azure_openai', model: 'gpt-4', api_key: { $secret: 'a/b' } }));
      expect(azure.message).toContain("must have required property 'base_url'");
    });

    it('refuses credentials in the base URL, unknown fields and out-of-range parameters, naming each', () => {
      const error = rejection(() =>
        validator.assertValid('model_endpoint', 'endpoint.x', {
          ...endpoint,
          base_url: 'https://user:pw@api.example.com',
          colour: 'red',
          default_parameters: { temperature: 3 },
        }),
      );
      expect(error.message).toContain('/base_url must match pattern');
      expect(error.message).toContain('must NOT have additional properties');
      expect(error.message).toContain('/default_parameters/temperature must be <= 2');
    });
  });

  describe('failover chains', () => {
    it('fills in the seed 001 breaker: open after 3 failures, half-open after 60 s, one trial request', () => {
      expect(validator.assertValid('failover_chain', 'failover.main', { primary: 'gpt-4o' })).toEqual({
        primary: 'gpt-4o',
        fallbacks: [],
        circuit_breaker: { failure_threshold: 3, half_open_after_seconds: 60, half_open_max_requests: 1 },
      });
      expect(validator.assertValid('failover_chain', 'failover.main', { primary: 'a', fallbacks: ['b'], circuit_breaker: { failure_threshold: 5 } })).toMatchObject({
        circuit_breaker: { failure_threshold: 5, half_open_after_seconds: 60 },
      });
    });

    it('leaves the caller\'s value untouched', () => {
      const value = { primary: 'gpt-4o' };
      validator.assertValid('failover_chain', 'failover.main', value);
      expect(value).toEqual({ primary: 'gpt-4o' });
    });

    it('refuses a fallback that repeats the primary or another fallback', () => {
      expect(rejection(() => validator.assertValid('failover_chain', 'failover.main', { primary: 'a', fallbacks: ['b', 'a'] })).field).toBe('value.fallbacks.1');
      expect(rejection(() => validator.assertValid('failover_chain', 'failover.main', { primary: 'a', fallbacks: ['b', 'b'] })).message).toContain('duplicate items');
    });
  });

  it('accepts the built-in presets as presets', () => {
    for (const [name, preset] of Object.entries(BUILT_IN_PRESETS)) expect(validator.assertValid('parameter_preset', `preset.${name}`, preset)).toEqual(preset);
    expect(BUILT_IN_PRESETS['data-extraction']).toMatchObject({ temperature: 0.1, top_p: 0.85 });
  });

  it('accepts pricing per model in USD per million tokens and refuses a negative price', () => {
    const pricing = { models: { 'gpt-4o': { input_usd_per_million: 2.5, output_usd_per_million: 10 } } };
    expect(validator.assertValid('model_pricing', 'pricing.openai', pricing)).toEqual({ currency: 'USD', ...pricing });
    const negative = rejection(() => validator.assertValid('model_pricing', 'pricing.openai', { models: { x: { input_usd_per_million: -1, output_usd_per_million: 1 } } }));
    expect(negative.message).toContain('/models/x/input_usd_per_million must be >= 0');
  });
});
