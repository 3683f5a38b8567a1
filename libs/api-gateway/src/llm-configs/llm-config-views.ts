import { toJson, type JsonValue } from '@bufbuild/protobuf';
import { timestampDate, ValueSchema, type Timestamp } from '@bufbuild/protobuf/wkt';
import {
  LlmConfigKind,
  type Budget,
  type CostFigures,
  type GetBudgetResponse,
  type GetCostReportResponse,
  type GetPromptResponse,
  type ListPromptsResponse,
  type LlmConfig,
  type PromptLabel,
  type PromptVersion,
  type RecordUsageResponse,
  type RenderPromptResponse,
} from '@llmops/contracts';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';

export interface LlmConfigView {
  kind: string;
  namespace: string;
  name: string;
  /** The config key it is stored under: its history, rollback and watch are under /api/v1/configs. */
  key: string;
  /** null for a built-in preset. */
  environment: string | null;
  value: JsonValue;
  version: number;
  revision: number;
  built_in: boolean;
  updated_by: string | null;
  updated_at: string | null;
}

export function llmConfigViewOf(config: LlmConfig | undefined): LlmConfigView {
  if (!config) throw new GatewayException(GatewayErrorCode.Internal, 'internal error');
  return {
    kind: LlmConfigKind[config.kind].toLowerCase(),
    namespace: config.namespace,
    name: config.name,
    key: config.key,
    environment: config.environment || null,
    value: config.value ? toJson(ValueSchema, config.value) : null,
    version: Number(config.version),
    revision: Number(config.revision),
    built_in: config.builtIn,
    updated_by: config.updatedBy || null,
    updated_at: isoOf(config.updatedAt),
  };
}

export interface PromptVersionView {
  namespace: string;
  name: string;
  version: string;
  template: string;
  variables: Array<{ name: string; required: boolean; default: string | null; description: string }>;
  description: string;
  created_by: string;
  created_at: string | null;
}

export function promptVersionViewOf(version: PromptVersion | undefined): PromptVersionView {
  if (!version) throw new GatewayException(GatewayErrorCode.Internal, 'internal error');
  return {
    namespace: version.namespace,
    name: version.name,
    version: version.version,
    template: version.template,
    variables: version.variables.map((variable) => ({
      name: variable.name,
      required: variable.required,
      default: variable.defaultValue ?? null,
      description: variable.description,
    })),
    description: version.description,
    created_by: version.createdBy,
    created_at: isoOf(version.createdAt),
  };
}

export interface PromptLabelView {
  label: string;
  variants: Array<{ version: string; weight: number }>;
  revision: number;
  updated_by: string;
  updated_at: string | null;
}

export function promptLabelViewOf(label: PromptLabel | undefined): PromptLabelView {
  if (!label) throw new GatewayException(GatewayErrorCode.Internal, 'internal error');
  return {
    label: label.label,
    variants: label.variants.map((variant) => ({ version: variant.version, weight: variant.weight })),
    revision: Number(label.revision),
    updated_by: label.updatedBy,
    updated_at: isoOf(label.updatedAt),
  };
}

export interface PromptView {
  namespace: string;
  name: string;
  /** Newest first. */
  versions: PromptVersionView[];
  labels: PromptLabelView[];
}

export function promptViewOf(namespace: string, name: string, response: GetPromptResponse): PromptView {
  return { namespace, name, versions: response.versions.map(promptVersionViewOf), labels: response.labels.map(promptLabelViewOf) };
}

export interface PromptSummaryView {
  namespace: string;
  name: string;
  /** The newest version, which the label latest serves. */
  latest_version: string;
  labels: PromptLabelView[];
  created_by: string;
  created_at: string | null;
  /** Its newest version's creation or its latest label move, whichever is later. */
  updated_at: string | null;
}

export function promptListViewOf(response: ListPromptsResponse): { data: PromptSummaryView[] } {
  return {
    data: response.prompts.map((prompt) => ({
      namespace: prompt.namespace,
      name: prompt.name,
      latest_version: prompt.latestVersion,
      labels: prompt.labels.map(promptLabelViewOf),
      created_by: prompt.createdBy,
      created_at: isoOf(prompt.createdAt),
      updated_at: isoOf(prompt.updatedAt),
    })),
  };
}

export interface RenderedPromptView {
  text: string;
  version: string;
  label: string | null;
  variant: number;
  defaulted: string[];
}

export function renderedPromptViewOf(response: RenderPromptResponse): RenderedPromptView {
  return { text: response.text, version: response.version, label: response.label || null, variant: response.variant, defaulted: response.defaulted };
}

export interface BudgetView {
  namespace: string;
  monthly_usd: number;
  version: number;
  updated_by: string;
  updated_at: string | null;
}

export function budgetViewOf(budget: Budget | undefined): BudgetView {
  if (!budget) throw new GatewayException(GatewayErrorCode.Internal, 'internal error');
  return {
    namespace: budget.namespace,
    monthly_usd: budget.monthlyUsd,
    version: Number(budget.version),
    updated_by: budget.updatedBy,
    updated_at: isoOf(budget.updatedAt),
  };
}

interface BudgetStatusView {
  namespace: string;
  monthly_usd: number;
  spend_usd: number;
  remaining_usd: number;
  used_ratio: number;
  thresholds_crossed: number[];
}

export interface BudgetReportView {
  namespace: string;
  month: string;
  /** The month's spend in the namespace and everything below it. */
  spend_usd: number;
  /** The namespace's own budget, or null. */
  budget: BudgetStatusView | null;
  /** Ancestors' budgets, which cover this namespace too; most specific first. */
  inherited_budgets: BudgetStatusView[];
}

export function budgetReportViewOf(response: GetBudgetResponse): BudgetReportView {
  const statuses = response.budgets.map(
    (status): BudgetStatusView => ({
      namespace: status.namespace,
      monthly_usd: status.monthlyUsd,
      spend_usd: status.spendUsd,
      remaining_usd: status.remainingUsd,
      used_ratio: status.usedRatio,
      thresholds_crossed: status.thresholdsCrossed,
    }),
  );
  return {
    namespace: response.namespace,
    month: response.month,
    spend_usd: response.spendUsd,
    budget: statuses.find((status) => status.namespace === response.namespace) ?? null,
    inherited_budgets: statuses.filter((status) => status.namespace !== response.namespace),
  };
}

export interface UsageView {
  namespace: string;
  request_id: string;
  provider: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  environment: string;
  month: string;
  occurred_at: string | null;
  recorded_by: string;
  /** The LLM request failed: it cost its tokens, but it is not a successful request. */
  failed: boolean;
  /** The request id had been recorded before; nothing was added. */
  duplicate: boolean;
  /** Budget thresholds this record crossed (each is reported once per namespace and month). */
  alerts: Array<{ namespace: string; threshold: number; monthly_usd: number; spend_usd: number; month: string }>;
}

export function usageViewOf(response: RecordUsageResponse): UsageView {
  const usage = response.usage;
  if (!usage) throw new GatewayException(GatewayErrorCode.Internal, 'internal error');
  return {
    namespace: usage.namespace,
    request_id: usage.requestId,
    provider: usage.provider,
    model: usage.model,
    input_tokens: Number(usage.inputTokens),
    output_tokens: Number(usage.outputTokens),
    cost_usd: usage.costUsd,
    environment: usage.environment,
    month: usage.month,
    occurred_at: isoOf(usage.occurredAt),
    recorded_by: usage.recordedBy,
    failed: usage.failed,
    duplicate: response.duplicate,
    alerts: response.alerts.map((alert) => ({
      namespace: alert.namespace,
      threshold: alert.threshold,
      monthly_usd: alert.monthlyUsd,
      spend_usd: alert.spendUsd,
      month: alert.month,
    })),
  };
}

interface CostFiguresView {
  requests: number;
  failed_requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  /** null without requests. */
  cost_per_request_usd: number | null;
  /** All of the cost, failed requests' included, over the successful requests; null without one. */
  cost_per_successful_request_usd: number | null;
}

export interface CostReportView {
  namespace: string;
  month: string;
  /** Whose pricing the alternatives use. */
  environment: string;
  /** The month's usage in the namespace and everything below it, in every environment. */
  totals: CostFiguresView;
  /** By recorded spend, highest first. */
  models: Array<{
    provider: string;
    model: string;
    figures: CostFiguresView;
    /** The namespace's endpoint configs, in any environment, that call this model. */
    endpoints: Array<{ name: string; environment: string }>;
    /** The same tokens on every other priced model, cheapest first; difference_usd < 0 is cheaper. */
    alternatives: Array<{ provider: string; model: string; cost_usd: number; difference_usd: number }>;
  }>;
  /** By saving, highest first; cost only, quality is not measured. */
  recommendations: Array<{
    provider: string;
    model: string;
    alternative_provider: string;
    alternative_model: string;
    cost_usd: number;
    alternative_cost_usd: number;
    saving_usd: number;
    saving_percent: number;
    summary: string;
  }>;
  min_saving_percent: number;
}

export function costReportViewOf(response: GetCostReportResponse): CostReportView {
  return {
    namespace: response.namespace,
    month: response.month,
    environment: response.environment,
    totals: costFiguresViewOf(response.totals),
    models: response.models.map((model) => ({
      provider: model.provider,
      model: model.model,
      figures: costFiguresViewOf(model.figures),
      endpoints: model.endpoints.map((endpoint) => ({ name: endpoint.name, environment: endpoint.environment })),
      alternatives: model.alternatives.map((alternative) => ({
        provider: alternative.provider,
        model: alternative.model,
        cost_usd: alternative.costUsd,
        difference_usd: alternative.differenceUsd,
      })),
    })),
    recommendations: response.recommendations.map((recommendation) => ({
      provider: recommendation.provider,
      model: recommendation.model,
      alternative_provider: recommendation.alternativeProvider,
      alternative_model: recommendation.alternativeModel,
      cost_usd: recommendation.costUsd,
      alternative_cost_usd: recommendation.alternativeCostUsd,
      saving_usd: recommendation.savingUsd,
      saving_percent: recommendation.savingPercent,
      summary: recommendation.summary,
    })),
    min_saving_percent: response.minSavingPercent,
  };
}

function costFiguresViewOf(figures: CostFigures | undefined): CostFiguresView {
  if (!figures) throw new GatewayException(GatewayErrorCode.Internal, 'internal error');
  return {
    requests: Number(figures.requests),
    failed_requests: Number(figures.failedRequests),
    input_tokens: Number(figures.inputTokens),
    output_tokens: Number(figures.outputTokens),
    cost_usd: figures.costUsd,
    cost_per_request_usd: figures.costPerRequestUsd ?? null,
    cost_per_successful_request_usd: figures.costPerSuccessfulRequestUsd ?? null,
  };
}

function isoOf(timestamp: Timestamp | undefined): string | null {
  return timestamp ? timestampDate(timestamp).toISOString() : null;
}
