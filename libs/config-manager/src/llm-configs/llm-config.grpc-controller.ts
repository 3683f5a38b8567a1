import { fromJson, toJson, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate, ValueSchema } from '@bufbuild/protobuf/wkt';
import {
  LlmConfigKind,
  LlmConfigService,
  type BudgetStatusSchema,
  type CostFiguresSchema,
  type LlmConfigSchema,
  type PromptLabelSchema,
  type PromptSummarySchema,
  type PromptVersionSchema,
  type UsageRecordSchema,
} from '@llmops/contracts';
import { principalFromMetadata } from '@llmops/platform-auth';
import type { CallContext, ServiceImplementation } from '@llmops/platform-grpc';
import type { ConfigActor } from '../configs/configs.service.js';
import { ConfigException, ConfigExceptionCode } from '../configs/exceptions/config.exception.js';
import type { BudgetsService, BudgetStatus, UsageRecord } from './budgets/budgets.service.js';
import type { CostFigures, GetCostReport } from './costs/get-cost-report.usecase.js';
import { keyOf, type LlmConfigKindName } from './llm-config-kinds.js';
import type { LlmConfigRecord, LlmConfigsService } from './llm-configs.service.js';
import type { PromptLabelRecord, PromptsService, PromptSummaryRecord, PromptVersionRecord } from './prompts/prompts.service.js';

const KIND_NAMES: Partial<Record<LlmConfigKind, LlmConfigKindName>> = {
  [LlmConfigKind.MODEL_ENDPOINT]: 'model_endpoint',
  [LlmConfigKind.FAILOVER_CHAIN]: 'failover_chain',
  [LlmConfigKind.PARAMETER_PRESET]: 'parameter_preset',
  [LlmConfigKind.MODEL_PRICING]: 'model_pricing',
};

/** LlmConfigService over gRPC: decode, call one service, encode. */
export class LlmConfigGrpcController {
  constructor(
    private readonly llmConfigs: LlmConfigsService,
    private readonly prompts: PromptsService,
    private readonly budgets: BudgetsService,
    private readonly costReport: GetCostReport,
  ) {}

  implementation(): ServiceImplementation<typeof LlmConfigService> {
    return {
      putLlmConfig: async (request, ctx) => {
        const record = await this.llmConfigs.put(actorOf(ctx), {
          kind: kindOf(request.kind),
          namespace: request.namespace,
          name: request.name,
          environment: request.environment,
          value: request.value ? toJson(ValueSchema, request.value) : undefined,
          expectedVersion: request.expectedVersion === undefined ? undefined : Number(request.expectedVersion),
        });
        return { config: llmConfigToProto(record) };
      },
      getLlmConfig: async (request, ctx) => {
        const record = await this.llmConfigs.get(actorOf(ctx), {
          kind: kindOf(request.kind),
          namespace: request.namespace,
          name: request.name,
          environment: request.environment,
        });
        return { config: llmConfigToProto(record) };
      },
      listLlmConfigs: async (request, ctx) => {
        const records = await this.llmConfigs.list(actorOf(ctx), kindOf(request.kind), request.namespace, request.environment);
        return { configs: records.map(llmConfigToProto) };
      },
      createPromptVersion: async (request, ctx) => {
        const version = await this.prompts.createVersion(actorOf(ctx), {
          namespace: request.namespace,
          name: request.name,
          version: request.version,
          template: request.template,
          variables: request.variables.map((variable) => ({
            name: variable.name,
            required: variable.required,
            defaultValue: variable.defaultValue,
            description: variable.description,
          })),
          description: request.description,
        });
        return { version: promptVersionToProto(version) };
      },
      listPrompts: async (request, ctx) => {
        const prompts = await this.prompts.listPrompts(actorOf(ctx), request.namespace);
        return { prompts: prompts.map(promptSummaryToProto) };
      },
      getPrompt: async (request, ctx) => {
        const prompt = await this.prompts.getPrompt(actorOf(ctx), { namespace: request.namespace, name: request.name });
        return { versions: prompt.versions.map(promptVersionToProto), labels: prompt.labels.map(promptLabelToProto) };
      },
      getPromptVersion: async (request, ctx) => {
        const version = await this.prompts.getVersion(actorOf(ctx), { namespace: request.namespace, name: request.name, version: request.version });
        return { version: promptVersionToProto(version) };
      },
      setPromptLabel: async (request, ctx) => {
        const label = await this.prompts.setLabel(actorOf(ctx), {
          namespace: request.namespace,
          name: request.name,
          label: request.label,
          variants: request.variants.map((variant) => ({ version: variant.version, weight: variant.weight })),
          expectedRevision: request.expectedRevision === undefined ? undefined : Number(request.expectedRevision),
        });
        return { label: promptLabelToProto(label) };
      },
      deletePromptLabel: async (request, ctx) => {
        const label = await this.prompts.deleteLabel(actorOf(ctx), {
          namespace: request.namespace,
          name: request.name,
          label: request.label,
          expectedRevision: request.expectedRevision === undefined ? undefined : Number(request.expectedRevision),
        });
        return { label: promptLabelToProto(label) };
      },
      renderPrompt: async (request, ctx) => {
        const rendered = await this.prompts.render(actorOf(ctx), {
          namespace: request.namespace,
          name: request.name,
          label: request.label || undefined,
          version: request.version || undefined,
          variables: request.variables,
          subject: request.subject || undefined,
        });
        return { ...rendered, label: rendered.label ?? '' };
      },
      setBudget: async (request, ctx) => {
        const budget = await this.budgets.setBudget(actorOf(ctx), {
          namespace: request.namespace,
          monthlyUsd: request.monthlyUsd,
          expectedVersion: request.expectedVersion === undefined ? undefined : Number(request.expectedVersion),
        });
        return {
          budget: {
            namespace: budget.namespace,
            monthlyUsd: budget.monthlyUsd,
            version: BigInt(budget.version),
            updatedBy: budget.updatedBy,
            updatedAt: timestampFromDate(budget.updatedAt),
          },
        };
      },
      getBudget: async (request, ctx) => {
        const report = await this.budgets.getBudget(actorOf(ctx), { namespace: request.namespace, month: request.month || undefined });
        return { namespace: request.namespace, month: report.month, spendUsd: report.spendUsd, budgets: report.budgets.map(budgetStatusToProto) };
      },
      recordUsage: async (request, ctx) => {
        const recorded = await this.budgets.recordUsage(actorOf(ctx), {
          namespace: request.namespace,
          requestId: request.requestId,
          provider: request.provider,
          model: request.model,
          inputTokens: Number(request.inputTokens),
          outputTokens: Number(request.outputTokens),
          environment: request.environment || undefined,
          occurredAt: request.occurredAt ? timestampDate(request.occurredAt) : undefined,
          failed: request.failed,
        });
        return { usage: usageToProto(recorded.usage), duplicate: recorded.duplicate, alerts: recorded.alerts };
      },
      getCostReport: async (request, ctx) => {
        const report = await this.costReport.execute(actorOf(ctx), {
          namespace: request.namespace,
          month: request.month || undefined,
          environment: request.environment || undefined,
        });
        return {
          ...report,
          totals: costFiguresToProto(report.totals),
          models: report.models.map((model) => ({ ...model, figures: costFiguresToProto(model.figures) })),
        };
      },
    };
  }
}

function kindOf(kind: LlmConfigKind): LlmConfigKindName {
  const name = KIND_NAMES[kind];
  if (!name) throw new ConfigException(ConfigExceptionCode.InvalidValue, 'kind must be one of model endpoint, failover chain, parameter preset, model pricing', 'kind');
  return name;
}

function kindToProto(kind: LlmConfigKindName): LlmConfigKind {
  return Number(Object.keys(KIND_NAMES).find((key) => KIND_NAMES[Number(key) as LlmConfigKind] === kind)) as LlmConfigKind;
}

function actorOf(ctx: CallContext): ConfigActor {
  const principal = principalFromMetadata(ctx.metadata);
  if (!principal) throw new ConfigException(ConfigExceptionCode.Unauthenticated, 'the call carries no authenticated principal');
  return { principal, requestId: ctx.requestId, ip: ctx.metadata['x-actor-ip'], userAgent: ctx.metadata['x-actor-user-agent'] };
}

function llmConfigToProto(record: LlmConfigRecord): MessageInitShape<typeof LlmConfigSchema> {
  const { entry } = record;
  return {
    kind: kindToProto(record.kind),
    namespace: record.namespace,
    name: record.name,
    key: keyOf(record.kind, record.name),
    environment: entry?.environment ?? '',
    value: fromJson(ValueSchema, record.value as JsonValue),
    version: BigInt(entry?.version ?? 0),
    revision: BigInt(entry?.revision ?? 0),
    builtIn: entry === undefined,
    updatedBy: entry?.createdBy ?? '',
    updatedAt: entry ? timestampFromDate(entry.createdAt) : undefined,
  };
}

function promptVersionToProto(version: PromptVersionRecord): MessageInitShape<typeof PromptVersionSchema> {
  return {
    namespace: version.namespace,
    name: version.name,
    version: version.version,
    template: version.template,
    variables: version.variables.map((variable) => ({
      name: variable.name,
      required: variable.required,
      defaultValue: variable.defaultValue,
      description: variable.description,
    })),
    description: version.description,
    createdBy: version.createdBy,
    createdAt: timestampFromDate(version.createdAt),
  };
}

function promptLabelToProto(label: PromptLabelRecord): MessageInitShape<typeof PromptLabelSchema> {
  return {
    label: label.label,
    variants: label.variants,
    revision: BigInt(label.revision),
    updatedBy: label.updatedBy,
    updatedAt: timestampFromDate(label.updatedAt),
  };
}

function promptSummaryToProto(prompt: PromptSummaryRecord): MessageInitShape<typeof PromptSummarySchema> {
  return {
    namespace: prompt.namespace,
    name: prompt.name,
    latestVersion: prompt.latestVersion,
    labels: prompt.labels.map(promptLabelToProto),
    createdBy: prompt.createdBy,
    createdAt: timestampFromDate(prompt.createdAt),
    updatedAt: timestampFromDate(prompt.updatedAt),
  };
}

function budgetStatusToProto(status: BudgetStatus): MessageInitShape<typeof BudgetStatusSchema> {
  return { ...status };
}

function usageToProto(usage: UsageRecord): MessageInitShape<typeof UsageRecordSchema> {
  return {
    ...usage,
    inputTokens: BigInt(usage.inputTokens),
    outputTokens: BigInt(usage.outputTokens),
    occurredAt: timestampFromDate(usage.occurredAt),
  };
}

function costFiguresToProto(figures: CostFigures): MessageInitShape<typeof CostFiguresSchema> {
  return {
    ...figures,
    requests: BigInt(figures.requests),
    failedRequests: BigInt(figures.failedRequests),
    inputTokens: BigInt(figures.inputTokens),
    outputTokens: BigInt(figures.outputTokens),
  };
}
