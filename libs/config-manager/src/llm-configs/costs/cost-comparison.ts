import { roundUsd } from '../budgets/usage-units.js';
import type { PricedModel } from '../llm-configs.service.js';

/** A model is recommended over another only when it would have cost at least this share less. */
export const MIN_RECOMMENDED_SAVING = 0.2;

/** The tokens and recorded spend of one provider and model. */
export interface ModelSpend {
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface AlternativeCost {
  provider: string;
  model: string;
  costUsd: number;
  /** costUsd minus the recorded spend: negative when the alternative is cheaper. */
  differenceUsd: number;
}

export interface CostRecommendation {
  provider: string;
  model: string;
  alternativeProvider: string;
  alternativeModel: string;
  costUsd: number;
  alternativeCostUsd: number;
  savingUsd: number;
  savingPercent: number;
  summary: string;
}

/** What `inputTokens` and `outputTokens` cost at `price`, rounded as RecordUsage rounds a record's cost. */
export function costAt(price: PricedModel['price'], inputTokens: number, outputTokens: number): number {
  return roundUsd((inputTokens * price.input_usd_per_million + outputTokens * price.output_usd_per_million) / 1_000_000);
}

/** What the same tokens would have cost on every other priced model, cheapest first. */
export function alternativesTo(spend: ModelSpend, prices: readonly PricedModel[]): AlternativeCost[] {
  return prices
    .filter((priced) => priced.provider !== spend.provider || priced.model !== spend.model)
    .map((priced) => {
      const costUsd = costAt(priced.price, spend.inputTokens, spend.outputTokens);
      return { provider: priced.provider, model: priced.model, costUsd, differenceUsd: roundUsd(costUsd - spend.costUsd) };
    })
    .sort((a, b) => a.costUsd - b.costUsd || a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model));
}

/**
 * The cheapest alternative, when it would have saved at least MIN_RECOMMENDED_SAVING of the recorded spend. Only price
 * is compared: whether the alternative answers as well is not known here, and the summary says so.
 */
export function recommendationFor(spend: ModelSpend, alternatives: readonly AlternativeCost[]): CostRecommendation | undefined {
  const [cheapest] = alternatives;
  if (!cheapest || spend.costUsd <= 0) return undefined;
  const savingUsd = roundUsd(spend.costUsd - cheapest.costUsd);
  // Rounded like the amounts, so a saving of exactly the minimum share counts whatever the binary fractions say.
  if (savingUsd < roundUsd(spend.costUsd * MIN_RECOMMENDED_SAVING)) return undefined;
  const savingPercent = Math.round((savingUsd / spend.costUsd) * 10_000) / 100;
  const used = `${spend.provider}/${spend.model}`;
  const alternative = `${cheapest.provider}/${cheapest.model}`;
  return {
    provider: spend.provider,
    model: spend.model,
    alternativeProvider: cheapest.provider,
    alternativeModel: cheapest.model,
    costUsd: spend.costUsd,
    alternativeCostUsd: cheapest.costUsd,
    savingUsd,
    savingPercent,
    summary:
      `${alternative} would have cost ${usd(cheapest.costUsd)} instead of ${usd(spend.costUsd)} for the same tokens as ${used} ` +
      `(${usd(savingUsd)}, ${savingPercent} % less). This compares cost only: answer quality, latency and context length are not measured.`,
  };
}

function usd(value: number): string {
  return `$${value === 0 || value >= 0.01 ? value.toFixed(2) : value.toPrecision(2)}`;
}
