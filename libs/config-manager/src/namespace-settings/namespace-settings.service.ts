import { ConfigEventType } from '@llmops/contracts';
import { TwoLayerCache, type CacheCodec } from '@llmops/platform-cache';
import type { Outbox } from '@llmops/platform-messaging';
import type { Database } from '@llmops/platform-persistence';
import type { EntityManager } from 'typeorm';
import { assertAllowed, type ConfigActor } from '../configs/config-access.js';
import { ConfigOperationMetrics } from '../configs/config-operation-metrics.js';
import type { ConfigServiceOptions } from '../configs/config-service-options.js';
import { assertEnvironment, assertKey, assertNamespace, DEFAULT_ENVIRONMENT_CHAIN, selfAndAncestors } from '../configs/config-path.js';
import { ConfigException, ConfigExceptionCode } from '../configs/exceptions/config.exception.js';
import { assertChainsSurviveSettings } from '../llm-configs/failover-chain-references.js';
import { SchemaValidator, type ValidationProblem } from './schema-validator.js';

export interface NamespaceSettings {
  namespace: string;
  schema?: unknown;
  keySchemas: Record<string, unknown>;
  /** Least to most specific; empty means the default chain. */
  environments: string[];
  /** Versions kept per key and environment; undefined keeps all. */
  maxVersions?: number;
  version: number;
  updatedBy?: string;
  updatedAt?: Date;
}

export interface EffectiveSettings {
  settings: NamespaceSettings;
  /** The namespace that defines them (the asked one or an ancestor), or undefined for the defaults. */
  definedAt?: string;
}

export interface SetNamespaceSettingsCommand {
  namespace: string;
  schema?: unknown;
  keySchemas?: Record<string, unknown>;
  environments?: string[];
  /** 1 to MAX_VERSIONS_LIMIT; undefined or 0 keeps every version. */
  maxVersions?: number;
  expectedVersion?: number;
}

const MAX_KEY_SCHEMAS = 100;
const MAX_ENVIRONMENTS = 16;
export const MAX_VERSIONS_LIMIT = 10_000;
/** Namespaces whose own settings (or their absence) stay in memory. */
const READ_CACHE_ENTRIES = 20_000;
/** A backstop only: a settings change invalidates the namespace on every replica as soon as it commits. */
const READ_CACHE_TTL_MS = 5 * 60_000;
const KEY_PATTERN = /^[a-z0-9*][a-z0-9._*-]{0,62}$/;

/**
 * Namespace settings: JSON Schemas for values (one for the namespace, others by key pattern) and the environment
 * chain reads resolve through. A namespace without settings uses its nearest ancestor's, so `acme` can govern
 * every `acme/...` namespace at once.
 */
export class NamespaceSettingsService {
  private readonly validator = new SchemaValidator();
  /**
   * The settings each namespace defines itself, or null, for reads: the hot path, while settings change rarely.
   * Cached per namespace rather than resolved, so a change at `acme` invalidates one entry, not every `acme/...`.
   */
  private readonly readCache: TwoLayerCache<NamespaceSettings | null>;
  private readonly operations: ConfigOperationMetrics;

  constructor(
    private readonly database: Database,
    private readonly outbox: Outbox,
    private readonly options: ConfigServiceOptions,
  ) {
    this.operations = new ConfigOperationMetrics(options.registry);
    this.readCache = new TwoLayerCache({
      name: 'namespace-settings.v1',
      maxEntries: READ_CACHE_ENTRIES,
      ttlMs: READ_CACHE_TTL_MS,
      shared: options.sharedCache,
      codec: settingsCodec,
      registry: options.registry,
    });
  }

  async effective(namespace: string, manager: EntityManager = this.database.dataSource.manager): Promise<EffectiveSettings> {
    assertNamespace(namespace);
    const candidates = selfAndAncestors(namespace);
    const rows: Array<Record<string, unknown>> = await manager.query(
      `SELECT * FROM ${this.database.schema}.namespace_settings WHERE namespace = ANY($1) ORDER BY length(namespace) DESC LIMIT 1`,
      [candidates],
    );
    return this.effectiveFrom(namespace, rows[0]);
  }

  /**
   * The settings in force for `namespace` given the namespace_settings row of its nearest configured ancestor (or
   * itself), read by a caller that fetched it along with something else; none: the defaults.
   */
  effectiveFrom(namespace: string, row: Record<string, unknown> | null | undefined): EffectiveSettings {
    if (!row) return { settings: { namespace, keySchemas: {}, environments: [], version: 0 } };
    return { settings: settingsOf(row), definedAt: String(row.namespace) };
  }

  /**
   * effective() for the read path, from the cache: a change applies on this replica when set() returns, on the others
   * once its invalidation message arrives. Writes always read the settings afresh, so a schema is never skipped.
   */
  async effectiveForRead(namespace: string): Promise<EffectiveSettings> {
    assertNamespace(namespace);
    const candidates = selfAndAncestors(namespace);
    const defined = await Promise.all(candidates.map((candidate) => this.readCache.get(candidate, () => this.definedAt(candidate))));
    for (let index = candidates.length - 1; index >= 0; index--) {
      const settings = defined[index];
      if (settings) return { settings, definedAt: candidates[index] };
    }
    return { settings: { namespace, keySchemas: {}, environments: [], version: 0 } };
  }

  private async definedAt(namespace: string): Promise<NamespaceSettings | null> {
    const rows: Array<Record<string, unknown>> = await this.database.dataSource.query(
      `SELECT * FROM ${this.database.schema}.namespace_settings WHERE namespace = $1`,
      [namespace],
    );
    return rows[0] ? settingsOf(rows[0]) : null;
  }

  /** The environments a read for `environment` consults under these settings, most specific first. */
  resolutionOrder(settings: NamespaceSettings, environment: string): string[] {
    const chain: readonly string[] = settings.environments.length > 0 ? settings.environments : DEFAULT_ENVIRONMENT_CHAIN;
    const index = chain.indexOf(environment);
    if (index < 0) return environment === chain[0] ? [environment] : [environment, chain[0]!];
    return chain.slice(0, index + 1).reverse();
  }

  /** The settings in force for `namespace`, for a caller who may read configuration in every environment. */
  read(actor: ConfigActor, namespace: string): Promise<EffectiveSettings> {
    return this.operations.track('settings_get', namespace, async () => {
      assertAllowed(actor, 'configs:read');
      return this.effective(namespace);
    });
  }

  set(actor: ConfigActor, command: SetNamespaceSettingsCommand): Promise<NamespaceSettings> {
    return this.operations.track('settings_set', command.namespace, () => this.setChecked(actor, command));
  }

  private async setChecked(actor: ConfigActor, command: SetNamespaceSettingsCommand): Promise<NamespaceSettings> {
    assertNamespace(command.namespace);
    // Settings govern every environment, so changing them needs write access to all of them.
    assertAllowed(actor, 'configs:write');
    if (command.schema !== undefined) this.validator.assertSchema(command.schema, 'schema');
    const keySchemas = command.keySchemas ?? {};
    if (Object.keys(keySchemas).length > MAX_KEY_SCHEMAS) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, `at most ${MAX_KEY_SCHEMAS} key schemas`, 'key_schemas');
    }
    for (const [pattern, schema] of Object.entries(keySchemas)) {
      if (!KEY_PATTERN.test(pattern)) {
        throw new ConfigException(ConfigExceptionCode.InvalidValue, `key pattern ${JSON.stringify(pattern)} must be a key name where * matches anything`, 'key_schemas');
      }
      this.validator.assertSchema(schema, `key_schemas.${pattern}`);
    }
    const environments = command.environments ?? [];
    if (environments.length > MAX_ENVIRONMENTS) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, `at most ${MAX_ENVIRONMENTS} environments`, 'environments');
    }
    environments.forEach((environment) => assertEnvironment(environment));
    if (new Set(environments).size !== environments.length) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, 'environments must not repeat', 'environments');
    }
    const maxVersions = command.maxVersions || undefined;
    if (maxVersions !== undefined && (!Number.isInteger(maxVersions) || maxVersions < 1 || maxVersions > MAX_VERSIONS_LIMIT)) {
      throw new ConfigException(
        ConfigExceptionCode.InvalidValue,
        `max_versions must be an integer from 1 to ${MAX_VERSIONS_LIMIT} (0 or absent keeps every version), not ${maxVersions}`,
        'max_versions',
      );
    }
    let saved: NamespaceSettings;
    try {
      saved = await this.database.dataSource.transaction(async (manager) => {
        // Config writes take the revision counter's row lock before they read settings: holding it too (without
        // taking a revision) orders this write with them, so none validates against settings this replaces, and
        // the failover chain check below sees every config committed before it.
        await manager.query(`SELECT value FROM ${this.database.schema}.revision_counter FOR UPDATE`);
        // What every namespace these settings will govern resolved through until now.
        const before = await this.effective(command.namespace, manager);
        // One statement decides: concurrent first writes meet on the primary key, and the check-and-set is the
        // upsert's own condition, so two writers expecting the same version cannot both win.
        const [row] = (await manager.query(
          `INSERT INTO ${this.database.schema}.namespace_settings AS current
             (namespace, schema, key_schemas, environments, max_versions, version, updated_by)
           VALUES ($1, $2, $3, $4, $7, 1, $5)
           ON CONFLICT (namespace) DO UPDATE SET schema = EXCLUDED.schema, key_schemas = EXCLUDED.key_schemas,
             environments = EXCLUDED.environments, max_versions = EXCLUDED.max_versions, version = current.version + 1,
             updated_by = EXCLUDED.updated_by, updated_at = now()
             WHERE $6::int IS NULL OR current.version = $6::int
           RETURNING *`,
          [
            command.namespace,
            command.schema === undefined ? null : JSON.stringify(command.schema),
            JSON.stringify(keySchemas),
            environments,
            actor.principal.id,
            command.expectedVersion ?? null,
            maxVersions ?? null,
          ],
        )) as Array<Record<string, unknown>>;
        // No row: the existing settings are at another version. A fresh insert (version 1) while expecting some version
        // above 0: there were none; the throw rolls the insert back.
        const insertedUnexpectedly = row !== undefined && Number(row.version) === 1 && (command.expectedVersion ?? 0) > 0;
        if (!row || insertedUnexpectedly) {
          const [current] = (await manager.query(`SELECT version FROM ${this.database.schema}.namespace_settings WHERE namespace = $1`, [
            command.namespace,
          ])) as Array<{ version: number }>;
          throw new ConfigException(
            ConfigExceptionCode.VersionConflict,
            `settings of ${command.namespace} are at version ${insertedUnexpectedly ? 0 : (current?.version ?? 0)}, not ${command.expectedVersion}`,
            'expected_version',
          );
        }
        const settings = settingsOf(row);
        const after = this.effectiveFrom(command.namespace, row);
        await assertChainsSurviveSettings(manager, this.database.schema, this, command.namespace, { before, after }, actor);
        await this.outbox.add(manager, {
          type: ConfigEventType.SettingsChanged,
          subject: `namespaces/${command.namespace}`,
          payload: {
            namespace: command.namespace,
            version: settings.version,
            environments,
            key_patterns: Object.keys(keySchemas),
            has_schema: command.schema !== undefined,
            ...(maxVersions === undefined ? {} : { max_versions: maxVersions }),
          },
          actor: { id: actor.principal.id, type: actor.principal.type, ipAddress: actor.ip, userAgent: actor.userAgent },
          correlationId: actor.requestId,
        });
        return settings;
      });
    } finally {
      // Also after a failure: a COMMIT whose reply was lost may still have committed. Namespaces below resolve
      // through this entry, so they need no invalidation of their own.
      await this.readCache.invalidate([command.namespace]);
    }
    // The settings event drops gateways' edge caches: out now, not at the relay's next poll.
    this.options.onCommitted?.();
    return saved;
  }

  /** What is wrong with `value` as `key` under these settings; empty when it is valid or no schema applies. */
  problems(effective: EffectiveSettings, key: string, value: unknown): ValidationProblem[] {
    const { settings } = effective;
    const pattern = Object.keys(settings.keySchemas)
      .sort()
      .find((candidate) => globMatches(candidate, key));
    const schema = pattern !== undefined ? settings.keySchemas[pattern] : settings.schema;
    if (schema === undefined || schema === null) return [];
    return this.validator.problems(`${effective.definedAt}@${settings.version}#${pattern ?? ''}`, schema, value);
  }

  /** Throws INVALID_VALUE listing every problem, for a write. */
  assertValid(effective: EffectiveSettings, key: string, value: unknown): void {
    const problems = this.problems(effective, key, value);
    if (problems.length === 0) return;
    const described = problems.map((problem) => `${problem.path || '(value)'} ${problem.message}`).join('; ');
    throw new ConfigException(
      ConfigExceptionCode.InvalidValue,
      `value of ${key} does not match the schema of ${effective.definedAt}: ${described}`,
      'value',
    );
  }

  /** Checks many values at once without writing them. */
  validate(actor: ConfigActor, namespace: string, values: Record<string, unknown>): Promise<Array<{ key: string; problems: ValidationProblem[] }>> {
    return this.operations.track('validate', namespace, async () => {
      assertAllowed(actor, 'configs:read');
      const effective = await this.effective(namespace);
      return Object.entries(values).map(([key, value]) => {
        assertKey(key);
        return { key, problems: this.problems(effective, key, value) };
      });
    });
  }
}

/** JSON, with `updatedAt` revived as a Date. */
const settingsCodec: CacheCodec<NamespaceSettings | null> = {
  encode: (settings) => JSON.stringify(settings),
  decode: (text) => {
    const settings = JSON.parse(text) as (NamespaceSettings & { updatedAt?: string }) | null;
    return settings && { ...settings, updatedAt: settings.updatedAt === undefined ? undefined : new Date(settings.updatedAt) };
  },
};

function globMatches(pattern: string, key: string): boolean {
  const expression = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*');
  return new RegExp(`^${expression}$`).test(key);
}

function settingsOf(row: Record<string, unknown>): NamespaceSettings {
  const parse = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);
  return {
    namespace: String(row.namespace),
    schema: row.schema === null ? undefined : parse(row.schema),
    keySchemas: (parse(row.key_schemas) ?? {}) as Record<string, unknown>,
    environments: (row.environments as string[] | null) ?? [],
    maxVersions: row.max_versions === null || row.max_versions === undefined ? undefined : Number(row.max_versions),
    version: Number(row.version),
    updatedBy: String(row.updated_by),
    updatedAt: new Date(row.updated_at as string | Date),
  };
}
