import { ConfigEventType } from '@llmops/contracts';
import type { Outbox } from '@llmops/platform-messaging';
import type { Database } from '@llmops/platform-persistence';
import type { EntityManager } from 'typeorm';
import { assertAllowed, type ConfigActor } from '../configs/config-access.js';
import { assertEnvironment, assertKey, assertNamespace, DEFAULT_ENVIRONMENT_CHAIN } from '../configs/config-path.js';
import { ConfigException, ConfigExceptionCode } from '../configs/exceptions/config.exception.js';
import { SchemaValidator, type ValidationProblem } from './schema-validator.js';

export interface NamespaceSettings {
  namespace: string;
  schema?: unknown;
  keySchemas: Record<string, unknown>;
  /** Least to most specific; empty means the default chain. */
  environments: string[];
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
  expectedVersion?: number;
}

const MAX_KEY_SCHEMAS = 100;
const MAX_ENVIRONMENTS = 16;
const READ_CACHE_MS = 1_000;
const READ_CACHE_ENTRIES = 10_000;
const KEY_PATTERN = /^[a-z0-9*][a-z0-9._*-]{0,62}$/;

/**
 * Namespace settings: JSON Schemas for values (one for the namespace, others by key pattern) and the environment
 * chain reads resolve through. A namespace without settings uses its nearest ancestor's, so `acme` can govern
 * every `acme/...` namespace at once.
 */
export class NamespaceSettingsService {
  private readonly validator = new SchemaValidator();
  /** Settings as reads last saw them, by namespace: reads are the hot path, and settings change rarely. */
  private readonly readCache = new Map<string, { settings: EffectiveSettings; expiresAt: number }>();

  constructor(
    private readonly database: Database,
    private readonly outbox: Outbox,
  ) {}

  async effective(namespace: string, manager: EntityManager = this.database.dataSource.manager): Promise<EffectiveSettings> {
    assertNamespace(namespace);
    const segments = namespace.split('/');
    const candidates = segments.map((_, index) => segments.slice(0, index + 1).join('/'));
    const rows: Array<Record<string, unknown>> = await manager.query(
      `SELECT * FROM ${this.database.schema}.namespace_settings WHERE namespace = ANY($1) ORDER BY length(namespace) DESC LIMIT 1`,
      [candidates],
    );
    const row = rows[0];
    if (!row) return { settings: { namespace, keySchemas: {}, environments: [], version: 0 } };
    return { settings: settingsOf(row), definedAt: String(row.namespace) };
  }

  /**
   * effective() for the read path, cached for READ_CACHE_MS: a change made on this instance applies at once, one made
   * on another replica within that time. Writes always read the settings afresh, so a schema is never skipped.
   */
  async effectiveForRead(namespace: string): Promise<EffectiveSettings> {
    const cached = this.readCache.get(namespace);
    if (cached && cached.expiresAt > Date.now()) return cached.settings;
    const settings = await this.effective(namespace);
    if (this.readCache.size >= READ_CACHE_ENTRIES) this.readCache.delete(this.readCache.keys().next().value!);
    this.readCache.set(namespace, { settings, expiresAt: Date.now() + READ_CACHE_MS });
    return settings;
  }

  /** The environments a read for `environment` consults under these settings, most specific first. */
  resolutionOrder(settings: NamespaceSettings, environment: string): string[] {
    const chain: readonly string[] = settings.environments.length > 0 ? settings.environments : DEFAULT_ENVIRONMENT_CHAIN;
    const index = chain.indexOf(environment);
    if (index < 0) return environment === chain[0] ? [environment] : [environment, chain[0]!];
    return chain.slice(0, index + 1).reverse();
  }

  /** The settings in force for `namespace`, for a caller who may read configuration in every environment. */
  async read(actor: ConfigActor, namespace: string): Promise<EffectiveSettings> {
    assertAllowed(actor, 'configs:read');
    return this.effective(namespace);
  }

  async set(actor: ConfigActor, command: SetNamespaceSettingsCommand): Promise<NamespaceSettings> {
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
    const saved = await this.database.dataSource.transaction(async (manager) => {
      // One statement decides: concurrent first writes meet on the primary key, and the check-and-set is the
      // upsert's own condition, so two writers expecting the same version cannot both win.
      const [row] = (await manager.query(
        `INSERT INTO ${this.database.schema}.namespace_settings AS current (namespace, schema, key_schemas, environments, version, updated_by)
         VALUES ($1, $2, $3, $4, 1, $5)
         ON CONFLICT (namespace) DO UPDATE SET schema = EXCLUDED.schema, key_schemas = EXCLUDED.key_schemas,
           environments = EXCLUDED.environments, version = current.version + 1, updated_by = EXCLUDED.updated_by, updated_at = now()
           WHERE $6::int IS NULL OR current.version = $6::int
         RETURNING *`,
        [
          command.namespace,
          command.schema === undefined ? null : JSON.stringify(command.schema),
          JSON.stringify(keySchemas),
          environments,
          actor.principal.id,
          command.expectedVersion ?? null,
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
      await this.outbox.add(manager, {
        type: ConfigEventType.SettingsChanged,
        subject: `namespaces/${command.namespace}`,
        payload: { namespace: command.namespace, version: settings.version, environments, key_patterns: Object.keys(keySchemas), has_schema: command.schema !== undefined },
        actor: { id: actor.principal.id, type: actor.principal.type, ipAddress: actor.ip, userAgent: actor.userAgent },
        correlationId: actor.requestId,
      });
      return settings;
    });
    // After the commit: every namespace at or below this one may have resolved to the settings just replaced.
    for (const cached of this.readCache.keys()) {
      if (cached === command.namespace || cached.startsWith(`${command.namespace}/`)) this.readCache.delete(cached);
    }
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
  async validate(actor: ConfigActor, namespace: string, values: Record<string, unknown>): Promise<Array<{ key: string; problems: ValidationProblem[] }>> {
    assertAllowed(actor, 'configs:read');
    const effective = await this.effective(namespace);
    return Object.entries(values).map(([key, value]) => {
      assertKey(key);
      return { key, problems: this.problems(effective, key, value) };
    });
  }
}

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
    version: Number(row.version),
    updatedBy: String(row.updated_by),
    updatedAt: new Date(row.updated_at as string | Date),
  };
}
