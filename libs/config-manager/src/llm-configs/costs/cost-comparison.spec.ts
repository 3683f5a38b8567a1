import { describe, expect, it } from '@jest/globals';
import type { PricedModel } from '../llm-configs.service.js';
import { alternativesTo, costAt, recommendationFor, type ModelSpend } from './cost-comparison.js';

const priced = (provider: PricedModel['provider'], model: string, input: number, output: number): PricedModel => ({
  provider,
  model,
  price: { input_usd_per_million: input, output_usd_per_million: output },
});

describe('cost comparison', () => {
  const spend: ModelSpend = { provider: 'openai', model: 'big', inputTokens: 1_000_000, outputTokens: 0, costUsd: 1 };

  it('prices the same tokens on every other model, cheapest first, ties by provider and model', () => {
    const prices = [priced('openai', 'big', 1, 0), priced('openai', 'b', 0.5, 9), priced('anthropic', 'z', 0.5, 0), priced('openai', 'a', 0.5, 0)];
    expect(alternativesTo(spend, prices)).toEqual([
      { provider: 'anthropic', model: 'z', costUsd: 0.5, differenceUsd: -0.5 },
      { provider: 'openai', model: 'a', costUsd: 0.5, differenceUsd: -0.5 },
      { provider: 'openai', model: 'b', costUsd: 0.5, differenceUsd: -0.5 },
    ]);
    // The same model under another provider is another model.
    expect(alternativesTo(spend, [priced('azure_openai', 'big', 1, 0)]).map((alternative) => alternative.provider)).toEqual(['azure_openai']);
    expect(costAt({ input_usd_per_million: 0.15, output_usd_per_million: 0.6 }, 2_400_000, 200_000)).toBe(0.48);
  });

  it('recommends the cheapest alternative from a saving of 20 %, and says it compares cost only', () => {
    const at = (costUsd: number) => recommendationFor(spend, [{ provider: 'anthropic', model: 'small', costUsd, differenceUsd: costUsd - 1 }]);
    expect(at(0.8)).toMatchObject({ alternativeModel: 'small', savingUsd: 0.2, savingPercent: 20 });
    expect(at(0.8000000001)).toBeUndefined();
    expect(at(0)?.summary).toBe(
      'anthropic/small would have cost $0.00 instead of $1.00 for the same tokens as openai/big ($1.00, 100 % less). ' +
        'This compares cost only: answer quality, latency and context length are not measured.',
    );
    expect(recommendationFor({ ...spend, costUsd: 0.00001 }, [{ provider: 'openai', model: 'tiny', costUsd: 0.0000025, differenceUsd: 0 }])?.summary).toContain(
      'would have cost $0.0000025 instead of $0.000010',
    );
  });

  it('recommends nothing without a cheaper alternative or without spend', () => {
    expect(recommendationFor(spend, [])).toBeUndefined();
    expect(recommendationFor(spend, [{ provider: 'openai', model: 'dear', costUsd: 2, differenceUsd: 1 }])).toBeUndefined();
    expect(recommendationFor({ ...spend, inputTokens: 0, costUsd: 0 }, [{ provider: 'openai', model: 'free', costUsd: 0, differenceUsd: 0 }])).toBeUndefined();
  });
});
