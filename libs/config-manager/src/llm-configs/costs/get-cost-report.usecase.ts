import type { Database } from '@llmops/platform-persistence';
import { assertAllowed, type ConfigActor } from '../../configs/config-access.js';
import { assertEnvironment, assertNamespace } from '../../configs/config-path.js';
import { ConfigException, ConfigExceptionCode } from '../../configs/exceptions/config.exception.js';
import { MAX_FUTURE_SKEW_MS, monthOf, monthText, parseMonth } from '../budgets/usage-units.js';
import { LLM_CONFIG_KINDS, nameOf } from '../llm-config-kinds.js';
import type { LlmConfigsService } from '../llm-configs.service.js';
import { alternativesTo, MIN_RECOMMENDED_SAVING, recommendationFor, type AlternativeCost, type CostRecommendation } from './cost-comparison.js';

export interface CostReportQuery {
  namespace: string;
  /** YYYY-MM; the current UTC month when absent. */
  month?: string;
  /** Whose pricing prices the alternatives; production when absent. */
  environment?: string;
}

export interface CostFigures {
  requests: number;
  failedRequests: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Absent without requests. */
  costPerRequestUsd?: number;
  /** All of the cost, failed requests' included, over the successful requests; absent without one. */
  costPerSuccessfulRequestUsd?: number;
}

export interface ModelCost {
  provider: string;
  model: string;
  figures: CostFigures;
  /** The namespace's `endpoint.<name>` configs, in any environment, that call this provider and model. */
  endpoints: Array<{ name: string; environment: string }>;
  alternatives: AlternativeCost[];
}

export interface CostReport {
  namespace: string;
  month: string;
  environment: string;
  totals: CostFigures;
  /** By recorded spend, highest first. */
  models: ModelCost[];
  /** By saving, highest first. */
  recommendations: CostRecommendation[];
  minSavingPercent: number;
}

interface FiguresRow {
  provider: string | null;
  model: string | null;
  grand_total: boolean;
  requests: string;
  failed_requests: string;
  input_tokens: string;
  output_tokens: string;
  cost_usd: string;
  cost_per_request_usd: string | null;
  cost_per_successful_request_usd: string | null;
}

/**
 * Seed 001 §6.4's cost figures for a namespace and everything below it in one UTC month: requests, failed requests,
 * tokens, spend, cost per request and per successful request, in total and per provider and model (with the endpoint
 * configs that call each model, so the spend per endpoint shows); what each model's tokens would have cost on every
 * other model the namespace's pricing lists; and, for each model, the cheapest alternative when it would have saved
 * at least MIN_RECOMMENDED_SAVING.
 *
 * Spend is what RecordUsage recorded, in whichever environment's pricing; alternatives are priced as RecordUsage
 * prices a record, with the pricing `environment` resolves for the namespace. Needs what a budget report needs:
 * configs:read in every environment.
 */
export class GetCostReport {
  constructor(
    private readonly database: Database,
    private readonly llmConfigs: LlmConfigsService,
  ) {}

  async execute(actor: ConfigActor, query: CostReportQuery): Promise<CostReport> {
    assertNamespace(query.namespace);
    assertAllowed(actor, 'configs:read');
    const month = query.month ? parseMonth(query.month) : monthOf(new Date());
    // A record may be up to the allowed clock skew ahead, so the month it counts in may be the next one already.
    if (month > monthOf(new Date(Date.now() + MAX_FUTURE_SKEW_MS))) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, `month ${monthText(month)} has not begun`, 'month');
    }
    const environment = query.environment || 'production';
    assertEnvironment(environment);
    const [rows, endpoints, prices] = await Promise.all([
      this.figures(query.namespace, month),
      this.endpoints(query.namespace),
      this.llmConfigs.priceList(actor, { namespace: query.namespace, environment }),
    ]);
    const totals = figuresOf(rows.find((row) => row.grand_total)!);
    const models = rows
      .filter((row) => !row.grand_total)
      .map((row): ModelCost => {
        const provider = row.provider!;
        const model = row.model!;
        const figures = figuresOf(row);
        return {
          provider,
          model,
          figures,
          endpoints: endpoints.filter((endpoint) => endpoint.provider === provider && endpoint.model === model).map(({ name, environment }) => ({ name, environment })),
          alternatives: alternativesTo({ provider, model, ...figures }, prices),
        };
      })
      .sort((a, b) => b.figures.costUsd - a.figures.costUsd || a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model));
    const recommendations = models
      .map((used) => recommendationFor({ provider: used.provider, model: used.model, ...used.figures }, used.alternatives))
      .filter((recommendation) => recommendation !== undefined)
      .sort((a, b) => b.savingUsd - a.savingUsd);
    return { namespace: query.namespace, month: monthText(month), environment, totals, models, recommendations, minSavingPercent: MIN_RECOMMENDED_SAVING * 100 };
  }

  /** One row per provider and model, and the grand total row, which is there when the month has no usage too. */
  private async figures(namespace: string, month: string): Promise<FiguresRow[]> {
    return (await this.database.dataSource.query(
      `SELECT provider, model, GROUPING(provider, model) <> 0 AS grand_total,
              count(*)::text AS requests,
              count(*) FILTER (WHERE failed)::text AS failed_requests,
              coalesce(sum(input_tokens), 0)::text AS input_tokens,
              coalesce(sum(output_tokens), 0)::text AS output_tokens,
              coalesce(sum(cost_usd), 0)::text AS cost_usd,
              round(sum(cost_usd) / nullif(count(*), 0), 10)::text AS cost_per_request_usd,
              round(sum(cost_usd) / nullif(count(*) FILTER (WHERE NOT failed), 0), 10)::text AS cost_per_successful_request_usd
         FROM ${this.database.schema}.llm_usage
        WHERE month = $2 AND (namespace = $1 OR starts_with(namespace, $3))
        GROUP BY GROUPING SETS ((provider, model), ())`,
      [namespace, month, `${namespace}/`],
    )) as FiguresRow[];
  }

  /**
   * The live `endpoint.<name>` configs of the namespace in every environment they are written in, read as the failover
   * chain check reads them; a value of another shape (written before its schema was enforced) calls no model.
   */
  private async endpoints(namespace: string): Promise<Array<{ name: string; environment: string; provider?: unknown; model?: unknown }>> {
    const rows = (await this.database.dataSource.query(
      `SELECT key, environment, value FROM (
         SELECT DISTINCT ON (key, environment) key, environment, value, deleted FROM ${this.database.schema}.config_entries
          WHERE namespace = $1 AND starts_with(key, $2)
          ORDER BY key, environment, version DESC
       ) latest
       WHERE NOT deleted
       ORDER BY key, environment`,
      [namespace, `${LLM_CONFIG_KINDS.model_endpoint.prefix}.`],
    )) as Array<{ key: string; environment: string; value: unknown }>;
    return rows.map((row) => {
      const value = typeof row.value === 'object' && row.value !== null ? (row.value as { provider?: unknown; model?: unknown }) : {};
      return { name: nameOf('model_endpoint', row.key)!, environment: row.environment, provider: value.provider, model: value.model };
    });
  }
}

function figuresOf(row: FiguresRow): CostFigures {
  return {
    requests: Number(row.requests),
    failedRequests: Number(row.failed_requests),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    costUsd: Number(row.cost_usd),
    costPerRequestUsd: row.cost_per_request_usd === null ? undefined : Number(row.cost_per_request_usd),
    costPerSuccessfulRequestUsd: row.cost_per_successful_request_usd === null ? undefined : Number(row.cost_per_successful_request_usd),
  };
}
