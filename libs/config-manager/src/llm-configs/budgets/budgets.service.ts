import { LlmConfigEventType } from '@llmops/contracts';
import type { Principal } from '@llmops/platform-auth';
import type { Outbox } from '@llmops/platform-messaging';
import type { Database } from '@llmops/platform-persistence';
import type { EntityManager } from 'typeorm';
import { assertAllowed, type ConfigActor } from '../../configs/config-access.js';
import { assertEnvironment, assertNamespace, selfAndAncestors } from '../../configs/config-path.js';
import { ConfigException, ConfigExceptionCode } from '../../configs/exceptions/config.exception.js';
import type { LlmConfigsService } from '../llm-configs.service.js';
import { MAX_FUTURE_SKEW_MS, monthOf, monthText, parseMonth, roundUsd } from './usage-units.js';

/** Seed 001 §6.4: alert at 80 % of the monthly budget; and again when it is used up. */
export const BUDGET_ALERT_THRESHOLDS = [0.8, 1] as const;
export const MAX_MONTHLY_BUDGET_USD = 1_000_000_000;
const MIN_MONTHLY_BUDGET_USD = 0.01;
const MAX_TOKENS = 1_000_000_000_000;
const REQUEST_ID = /^[\w.:-]{1,128}$/;
/**
 * Reads the pricing a usage record is priced with. The record is authorized by usage:record alone, so an API key
 * scoped to it can record without also being allowed to read the environment's configs.
 */
const PRICING_READER: Principal = { id: 'config-manager/usage-pricing', type: 'service', roles: ['service-account'] };

export interface BudgetRecord {
  namespace: string;
  monthlyUsd: number;
  version: number;
  updatedBy: string;
  updatedAt: Date;
}

export interface BudgetStatus {
  namespace: string;
  monthlyUsd: number;
  spendUsd: number;
  remainingUsd: number;
  usedRatio: number;
  thresholdsCrossed: number[];
}

export interface BudgetAlert {
  namespace: string;
  threshold: number;
  monthlyUsd: number;
  spendUsd: number;
  month: string;
}

export interface UsageRecord {
  namespace: string;
  requestId: string;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  environment: string;
  month: string;
  occurredAt: Date;
  recordedBy: string;
  /** The LLM request failed; its tokens still cost. */
  failed: boolean;
}

export interface RecordUsageCommand {
  namespace: string;
  requestId: string;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  environment?: string;
  occurredAt?: Date;
  failed?: boolean;
}

/**
 * LLM spend (seed 001 §6.4): usage records priced from `pricing.<provider>` configs, month-to-date spend per namespace
 * (a namespace's spend includes everything below it), and monthly budgets that cover a namespace and its descendants.
 * Crossing 80 % and 100 % of a budget is announced once per namespace, month and threshold, in the transaction that
 * crossed it; the alert table's primary key makes racing records agree on who announces.
 *
 * Budgets have no environment: setting one needs configs:write in every environment and reading one configs:read in
 * every environment. A usage record needs usage:record in the environment whose pricing it uses.
 */
export class BudgetsService {
  constructor(
    private readonly database: Database,
    private readonly outbox: Outbox,
    private readonly llmConfigs: LlmConfigsService,
  ) {}

  async setBudget(actor: ConfigActor, command: { namespace: string; monthlyUsd: number; expectedVersion?: number }): Promise<BudgetRecord> {
    assertNamespace(command.namespace);
    assertAllowed(actor, 'configs:write');
    // A budget under a cent is no budget (and below a millionth of a dollar it would round to 0, which the table refuses).
    if (!Number.isFinite(command.monthlyUsd) || command.monthlyUsd < MIN_MONTHLY_BUDGET_USD || command.monthlyUsd > MAX_MONTHLY_BUDGET_USD) {
      throw new ConfigException(
        ConfigExceptionCode.InvalidValue,
        `monthly_usd must be from ${MIN_MONTHLY_BUDGET_USD} to ${MAX_MONTHLY_BUDGET_USD}`,
        'monthly_usd',
      );
    }
    return this.database.dataSource.transaction(async (manager) => {
      const row = await this.writeBudget(manager, actor, command);
      const budget = budgetOf(row);
      await this.outbox.add(manager, {
        type: LlmConfigEventType.BudgetSet,
        subject: subjectOf(command.namespace),
        payload: { namespace: budget.namespace, monthly_usd: budget.monthlyUsd, version: budget.version },
        actor: actorOf(actor),
        correlationId: actor.requestId,
      });
      // A lowered budget may already be crossed by this month's spend: that is announced now, not at the next record.
      await this.announceCrossings(manager, actor, [command.namespace], monthOf(new Date()));
      return budget;
    });
  }

  /** Check-and-set when expected_version is given: the row lock decides, and a budget created meanwhile is a conflict. */
  private async writeBudget(
    manager: EntityManager,
    actor: ConfigActor,
    command: { namespace: string; monthlyUsd: number; expectedVersion?: number },
  ): Promise<Record<string, unknown>> {
    const values = [command.namespace, String(command.monthlyUsd), actor.principal.id];
    if (command.expectedVersion === undefined) {
      const [row] = (await manager.query(
        `INSERT INTO ${this.table('llm_budgets')} AS current (namespace, monthly_usd, version, updated_by) VALUES ($1, $2, 1, $3)
         ON CONFLICT (namespace) DO UPDATE SET monthly_usd = EXCLUDED.monthly_usd, version = current.version + 1,
           updated_by = EXCLUDED.updated_by, updated_at = now()
         RETURNING *`,
        values,
      )) as Array<Record<string, unknown>>;
      return row!;
    }
    const [current] = (await manager.query(`SELECT version FROM ${this.table('llm_budgets')} WHERE namespace = $1 FOR UPDATE`, [command.namespace])) as Array<{
      version: number;
    }>;
    const live = current?.version ?? 0;
    const [row] =
      live !== command.expectedVersion
        ? []
        : ((await manager.query(
            live === 0
              ? `INSERT INTO ${this.table('llm_budgets')} (namespace, monthly_usd, version, updated_by) VALUES ($1, $2, 1, $3) ON CONFLICT DO NOTHING RETURNING *`
              : // Wrapped in a SELECT because TypeORM returns [rows, count] rather than rows for a bare UPDATE.
                `WITH updated AS (UPDATE ${this.table('llm_budgets')} SET monthly_usd = $2, version = version + 1, updated_by = $3, updated_at = now()
                   WHERE namespace = $1 RETURNING *) SELECT * FROM updated`,
            values,
          )) as Array<Record<string, unknown>>);
    if (!row) {
      throw new ConfigException(
        ConfigExceptionCode.VersionConflict,
        `the budget of ${command.namespace} is not at version ${command.expectedVersion}${live !== command.expectedVersion ? ` (it is at ${live})` : ' (it was just created)'}`,
        'expected_version',
      );
    }
    return row;
  }

  async getBudget(actor: ConfigActor, request: { namespace: string; month?: string }): Promise<{ month: string; spendUsd: number; budgets: BudgetStatus[] }> {
    assertNamespace(request.namespace);
    assertAllowed(actor, 'configs:read');
    const month = request.month ? parseMonth(request.month) : monthOf(new Date());
    const namespaces = selfAndAncestors(request.namespace);
    const rows = (await this.database.dataSource.query(
      `SELECT n.namespace, b.monthly_usd::text AS monthly_usd, coalesce(s.spend_usd, 0)::text AS spend_usd,
              coalesce((SELECT array_agg(a.threshold::float8 ORDER BY a.threshold) FROM ${this.table('llm_budget_alerts')} a
                         WHERE a.namespace = n.namespace AND a.month = $2), '{}') AS thresholds
         FROM unnest($1::text[]) AS n(namespace)
         LEFT JOIN ${this.table('llm_budgets')} b ON b.namespace = n.namespace
         LEFT JOIN ${this.table('llm_monthly_spend')} s ON s.namespace = n.namespace AND s.month = $2`,
      [namespaces, month],
    )) as Array<{ namespace: string; monthly_usd: string | null; spend_usd: string; thresholds: number[] }>;
    const own = rows.find((row) => row.namespace === request.namespace);
    const budgets = rows
      .filter((row) => row.monthly_usd !== null)
      .sort((a, b) => b.namespace.length - a.namespace.length)
      .map((row): BudgetStatus => {
        const monthlyUsd = Number(row.monthly_usd);
        const spendUsd = Number(row.spend_usd);
        return {
          namespace: row.namespace,
          monthlyUsd,
          spendUsd,
          remainingUsd: roundUsd(monthlyUsd - spendUsd),
          usedRatio: spendUsd / monthlyUsd,
          thresholdsCrossed: row.thresholds.map(Number),
        };
      });
    return { month: monthText(month), spendUsd: Number(own?.spend_usd ?? 0), budgets };
  }

  async recordUsage(actor: ConfigActor, command: RecordUsageCommand): Promise<{ usage: UsageRecord; duplicate: boolean; alerts: BudgetAlert[] }> {
    assertNamespace(command.namespace);
    const environment = command.environment || 'production';
    assertEnvironment(environment);
    assertAllowed(actor, 'usage:record', environment);
    checkUsage(command);
    const occurredAt = command.occurredAt ?? new Date();
    const month = monthOf(occurredAt);
    const price = await this.llmConfigs.priceOf(
      { principal: PRICING_READER, requestId: actor.requestId },
      { namespace: command.namespace, environment, provider: command.provider, model: command.model },
    );
    return this.database.dataSource.transaction(async (manager) => {
      const [inserted] = (await manager.query(
        `INSERT INTO ${this.table('llm_usage')}
           (namespace, request_id, provider, model, input_tokens, output_tokens, cost_usd, environment, month, occurred_at, recorded_by, failed)
         VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint, round(($5::bigint * $7::numeric + $6::bigint * $8::numeric) / 1000000, 10), $9, $10, $11, $12, $13)
         ON CONFLICT (namespace, request_id) DO NOTHING
         RETURNING *, cost_usd::text AS cost_text, month::text AS month_text`,
        [
          command.namespace,
          command.requestId,
          command.provider,
          command.model,
          command.inputTokens,
          command.outputTokens,
          String(price.input_usd_per_million),
          String(price.output_usd_per_million),
          environment,
          month,
          occurredAt,
          actor.principal.id,
          command.failed ?? false,
        ],
      )) as Array<Record<string, unknown>>;
      if (!inserted) return { usage: await this.sameUsage(manager, command), duplicate: true, alerts: [] };
      const usage = usageOf(inserted);
      const namespaces = selfAndAncestors(command.namespace);
      // Least specific first in every transaction, so racing records lock the shared ancestors' rows in one order.
      await manager.query(
        `INSERT INTO ${this.table('llm_monthly_spend')} AS current (namespace, month, spend_usd)
         SELECT namespace, $2::date, $3::numeric FROM unnest($1::text[]) WITH ORDINALITY AS n(namespace, position) ORDER BY position
         ON CONFLICT (namespace, month) DO UPDATE SET spend_usd = current.spend_usd + EXCLUDED.spend_usd`,
        [namespaces, month, inserted.cost_text],
      );
      const alerts = await this.announceCrossings(manager, actor, namespaces, month);
      return { usage, duplicate: false, alerts };
    });
  }

  /**
   * Records, and announces, each threshold of a budget over `namespaces` that the month's spend has reached and that
   * was not announced yet. The insert waits for a racing transaction's uncommitted alert row, then skips it.
   */
  private async announceCrossings(manager: EntityManager, actor: ConfigActor, namespaces: string[], month: string): Promise<BudgetAlert[]> {
    const crossed = (await manager.query(
      `INSERT INTO ${this.table('llm_budget_alerts')} (namespace, month, threshold, monthly_usd, spend_usd)
       SELECT b.namespace, $2::date, t.threshold, b.monthly_usd, s.spend_usd
         FROM ${this.table('llm_budgets')} b
         JOIN ${this.table('llm_monthly_spend')} s ON s.namespace = b.namespace AND s.month = $2
         CROSS JOIN unnest($3::numeric[]) AS t(threshold)
        WHERE b.namespace = ANY($1) AND s.spend_usd >= b.monthly_usd * t.threshold
       ON CONFLICT DO NOTHING
       RETURNING namespace, threshold::float8 AS threshold, monthly_usd::text AS monthly_usd, spend_usd::text AS spend_usd`,
      [namespaces, month, BUDGET_ALERT_THRESHOLDS.map(String)],
    )) as Array<{ namespace: string; threshold: number; monthly_usd: string; spend_usd: string }>;
    const alerts = crossed
      .map((row) => ({ namespace: row.namespace, threshold: Number(row.threshold), monthlyUsd: Number(row.monthly_usd), spendUsd: Number(row.spend_usd), month: monthText(month) }))
      .sort((a, b) => b.namespace.length - a.namespace.length || a.threshold - b.threshold);
    for (const alert of alerts) {
      await this.outbox.add(manager, {
        type: LlmConfigEventType.BudgetThresholdCrossed,
        subject: subjectOf(alert.namespace),
        payload: { namespace: alert.namespace, month: alert.month, threshold: alert.threshold, monthly_usd: alert.monthlyUsd, spend_usd: alert.spendUsd },
        actor: actorOf(actor),
        correlationId: actor.requestId,
      });
    }
    return alerts;
  }

  /** The usage already recorded under the request id, if it is the same usage; a different one is a conflict. */
  private async sameUsage(manager: EntityManager, command: RecordUsageCommand): Promise<UsageRecord> {
    const [row] = (await manager.query(`SELECT *, cost_usd::text AS cost_text, month::text AS month_text FROM ${this.table('llm_usage')} WHERE namespace = $1 AND request_id = $2`, [
      command.namespace,
      command.requestId,
    ])) as Array<Record<string, unknown>>;
    const existing = usageOf(row!);
    const same =
      existing.provider === command.provider &&
      existing.model === command.model &&
      existing.inputTokens === command.inputTokens &&
      existing.outputTokens === command.outputTokens &&
      existing.failed === (command.failed ?? false);
    if (!same) {
      throw new ConfigException(
        ConfigExceptionCode.Conflict,
        `request_id ${command.requestId} is already recorded in ${command.namespace} with other usage ` +
          `(${existing.provider}/${existing.model}, ${existing.inputTokens} in, ${existing.outputTokens} out, ${existing.failed ? 'failed' : 'succeeded'})`,
        'request_id',
      );
    }
    return existing;
  }

  private table(name: string): string {
    return `${this.database.schema}.${name}`;
  }
}

function checkUsage(command: RecordUsageCommand): void {
  if (!REQUEST_ID.test(command.requestId)) {
    throw new ConfigException(ConfigExceptionCode.InvalidValue, 'request_id must be 1 to 128 letters, digits, _, ., : or -', 'request_id');
  }
  if (command.model.length === 0 || command.model.length > 200) {
    throw new ConfigException(ConfigExceptionCode.InvalidValue, 'model must be 1 to 200 characters', 'model');
  }
  for (const [field, tokens] of [['input_tokens', command.inputTokens], ['output_tokens', command.outputTokens]] as const) {
    if (!Number.isSafeInteger(tokens) || tokens < 0 || tokens > MAX_TOKENS) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, `${field} must be an integer from 0 to ${MAX_TOKENS}`, field);
    }
  }
  if (command.occurredAt && command.occurredAt.getTime() > Date.now() + MAX_FUTURE_SKEW_MS) {
    throw new ConfigException(ConfigExceptionCode.InvalidValue, 'occurred_at is in the future', 'occurred_at');
  }
}

function budgetOf(row: Record<string, unknown>): BudgetRecord {
  return {
    namespace: String(row.namespace),
    monthlyUsd: Number(row.monthly_usd),
    version: Number(row.version),
    updatedBy: String(row.updated_by),
    updatedAt: new Date(row.updated_at as string | Date),
  };
}

function usageOf(row: Record<string, unknown>): UsageRecord {
  return {
    namespace: String(row.namespace),
    requestId: String(row.request_id),
    provider: String(row.provider),
    model: String(row.model),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    costUsd: Number(row.cost_text),
    environment: String(row.environment),
    month: monthText(String(row.month_text)),
    occurredAt: new Date(row.occurred_at as string | Date),
    recordedBy: String(row.recorded_by),
    failed: row.failed === true,
  };
}

function subjectOf(namespace: string): string {
  return `budgets/${namespace}`;
}

function actorOf(actor: ConfigActor): { id: string; type: string; ipAddress?: string; userAgent?: string } {
  return { id: actor.principal.id, type: actor.principal.type, ipAddress: actor.ip, userAgent: actor.userAgent };
}
