import { randomUUID } from 'node:crypto';
import { ConfigEventType } from '@llmops/contracts';
import { authorize } from '@llmops/platform-auth';
import { TwoLayerCache, type CacheCodec } from '@llmops/platform-cache';
import type { Outbox } from '@llmops/platform-messaging';
import type { Database } from '@llmops/platform-persistence';
import type { EntityManager } from 'typeorm';
import { ConfigChangeFeed } from './config-change-feed.js';
import { ConfigEntryEntity } from './config-entry.entity.js';
import type { EffectiveSettings, NamespaceSettingsService } from '../namespace-settings/namespace-settings.service.js';
import { assertAllowed, type ConfigActor } from './config-access.js';
import { ConfigOperationMetrics } from './config-operation-metrics.js';
import type { ConfigServiceOptions } from './config-service-options.js';
import { assertEnvironment, assertKey, assertNamespace, selfAndAncestors } from './config-path.js';
import { ConfigException, ConfigExceptionCode } from './exceptions/config.exception.js';
import { LLM_CONFIG_KINDS, nameOf, type LlmConfigKindName } from '../llm-configs/llm-config-kinds.js';
import { LlmConfigValidator } from '../llm-configs/llm-config-validator.js';
import { assertChainEndpointsResolve, assertNoChainLosesEndpoint } from '../llm-configs/failover-chain-references.js';

export type { ConfigActor } from './config-access.js';

export type Classification = 'public' | 'internal' | 'confidential';

export interface ConfigKeyRef {
  namespace: string;
  key: string;
  environment: string;
}

export interface ResolvedConfig {
  entry: ConfigEntryEntity;
  resolvedFrom: string;
}

export interface SetConfigCommand extends ConfigKeyRef {
  value: unknown;
  classification?: Classification;
  /** Check-and-set: the write succeeds only if the live version equals this (0 = the key must not exist). */
  expectedVersion?: number;
}

export type BulkOperation =
  | (SetConfigCommand & { kind: 'set' })
  | (ConfigKeyRef & { kind: 'delete'; expectedVersion?: number });

export const MAX_BULK_OPERATIONS = 1_000;

/** Values above this are refused: configuration is not a blob store, and every read path caches values. */
export const MAX_VALUE_BYTES = 512 * 1024;
const WATCH_BATCH = 500;
const DEFAULT_HISTORY_PAGE = 50;
const MAX_HISTORY_PAGE = 500;
/** Keys whose latest versions stay in memory; about 1 KiB each for typical values. */
const LATEST_CACHE_ENTRIES = 50_000;
/** Backstops only: every write invalidates the key on every replica as soon as it commits. */
const LATEST_CACHE_TTL_MS = 5 * 60_000;
const LATEST_CACHE_SHARED_TTL_MS = 15 * 60_000;

export class ConfigsService {
  /** Committed changes as this replica sees them, shared by every watch here. */
  readonly changeFeed: ConfigChangeFeed;
  /** By `namespace/key`: the latest version in every environment, so any environment resolves from one entry. */
  private readonly latestCache: TwoLayerCache<ConfigEntryEntity[]>;
  private readonly operations: ConfigOperationMetrics;

  constructor(
    private readonly database: Database,
    private readonly outbox: Outbox,
    private readonly settings: NamespaceSettingsService,
    private readonly options: ConfigServiceOptions,
  ) {
    this.operations = new ConfigOperationMetrics(options.registry);
    this.latestCache = new TwoLayerCache({
      name: 'config-latest.v1',
      maxEntries: LATEST_CACHE_ENTRIES,
      ttlMs: LATEST_CACHE_TTL_MS,
      sharedTtlMs: LATEST_CACHE_SHARED_TTL_MS,
      shared: options.sharedCache,
      codec: entriesCodec,
      registry: options.registry,
    });
    this.changeFeed = new ConfigChangeFeed(
      { currentRevision: () => this.currentRevision(), changesAfter: (after, limit) => this.rowsAfter(after, limit) },
      { pollMs: options.watchPollMs, onPollError: (error) => options.logger?.warn({ err: error }, 'reading config changes for watches failed') },
    );
  }

  get(actor: ConfigActor, ref: ConfigKeyRef & { exact?: boolean }): Promise<ResolvedConfig> {
    return this.operations.track('get', ref.namespace, async () => {
      this.assertRef(ref);
      assertAllowed(actor, 'configs:read', ref.environment);
      const environments = ref.exact ? [ref.environment] : await this.resolutionOrder(ref.namespace, ref.environment);
      const latest = await this.latestCache.get(cacheKeyOf(ref), () => this.latestPerEnvironment(ref.namespace, ref.key));
      for (const environment of environments) {
        const entry = latest.find((candidate) => candidate.environment === environment);
        if (entry && !entry.deleted) return { entry, resolvedFrom: environment };
      }
      throw new ConfigException(
        ConfigExceptionCode.NotFound,
        `config ${ref.namespace}/${ref.key} not found in ${ref.exact ? ref.environment : environments.join(' < ')}`,
      );
    });
  }

  set(actor: ConfigActor, command: SetConfigCommand): Promise<ConfigEntryEntity> {
    return this.operations.track('set', command.namespace, async () => {
      this.checkSet(actor, command);
      return this.write([command], async (manager) => {
        const entry = await this.setWithin(manager, actor, command);
        await assertChainEndpointsResolve(manager, this.database.schema, this.settings, command, actor);
        return entry;
      });
    });
  }

  delete(actor: ConfigActor, ref: ConfigKeyRef & { expectedVersion?: number }): Promise<{ version: number; revision: number }> {
    return this.operations.track('delete', ref.namespace, async () => {
      this.checkDelete(actor, ref);
      const tombstone = await this.write([ref], async (manager) => {
        const deleted = await this.deleteWithin(manager, actor, ref);
        await assertNoChainLosesEndpoint(manager, this.database.schema, this.settings, ref, actor);
        return deleted;
      });
      return { version: tombstone.version, revision: tombstone.revision };
    });
  }

  /**
   * Applies writes and deletions in one transaction, in order: all of them or none. Every operation is checked
   * (path, permission in its environment, value) before anything is written, and against its schema in the
   * transaction, under the revision lock a settings write also takes; a failure names its index.
   */
  bulk(actor: ConfigActor, operations: BulkOperation[]): Promise<ConfigEntryEntity[]> {
    return this.operations.track('bulk', operations.map((operation) => operation.namespace), () => this.bulkChecked(actor, operations));
  }

  private async bulkChecked(actor: ConfigActor, operations: BulkOperation[]): Promise<ConfigEntryEntity[]> {
    if (operations.length === 0 || operations.length > MAX_BULK_OPERATIONS) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, `a bulk request holds 1 to ${MAX_BULK_OPERATIONS} operations`, 'operations');
    }
    const atIndex = async <T>(index: number, run: () => Promise<T>): Promise<T> => {
      try {
        return await run();
      } catch (error) {
        if (!(error instanceof ConfigException)) throw error;
        throw new ConfigException(error.code, `operation ${index}: ${error.message}`, `operations[${index}]${error.field ? `.${error.field}` : ''}`);
      }
    };
    for (const [index, operation] of operations.entries()) {
      await atIndex(index, async () => (operation.kind === 'set' ? this.checkSet(actor, operation) : this.checkDelete(actor, operation)));
    }
    return this.write(operations, async (manager) => {
      const entries: ConfigEntryEntity[] = [];
      for (const [index, operation] of operations.entries()) {
        entries.push(
          await atIndex(index, () =>
            operation.kind === 'set'
              ? this.setWithin(manager, actor, operation)
              : this.deleteWithin(manager, actor, operation),
          ),
        );
      }
      // Once every operation is applied: a bulk may write or delete a failover chain and its endpoints in any order.
      for (const [index, operation] of operations.entries()) {
        await atIndex(index, () =>
          operation.kind === 'delete'
            ? assertNoChainLosesEndpoint(manager, this.database.schema, this.settings, operation, actor)
            : assertChainEndpointsResolve(manager, this.database.schema, this.settings, operation, actor),
        );
      }
      return entries;
    });
  }

  /** What a write needs checked before its transaction; the schema is checked inside it (setWithin), under the lock. */
  private checkSet(actor: ConfigActor, command: SetConfigCommand): void {
    this.assertRef(command);
    assertAllowed(actor, 'configs:write', command.environment);
    if (command.value === undefined) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, 'value is required', 'value');
    }
    const size = Buffer.byteLength(JSON.stringify(command.value));
    if (size > MAX_VALUE_BYTES) {
      throw new ConfigException(
        ConfigExceptionCode.ValueTooLarge,
        `value is ${size} bytes; the limit is ${MAX_VALUE_BYTES}`,
        'value',
      );
    }
    assertLlmKind(command.key, command.value);
  }

  private checkDelete(actor: ConfigActor, ref: ConfigKeyRef): void {
    this.assertRef(ref);
    assertAllowed(actor, 'configs:delete', ref.environment);
  }

  private async setWithin(
    manager: EntityManager,
    actor: ConfigActor,
    command: SetConfigCommand,
  ): Promise<ConfigEntryEntity> {
    const { revision, current, settings } = await this.startKeyWrite(manager, command);
    this.settings.assertValid(settings, command.key, command.value);
    if (!current) await this.assertPathIsFreeForKey(manager, command);
    const liveVersion = current && !current.deleted ? current.version : 0;
    this.checkExpectedVersion(command, command.expectedVersion, liveVersion);
    return this.appendVersion(manager, actor, command, current, revision, {
      value: command.value,
      classification: command.classification ?? (current?.classification as Classification | undefined) ?? 'internal',
      type: liveVersion === 0 ? ConfigEventType.Created : ConfigEventType.Updated,
    });
  }

  private async deleteWithin(
    manager: EntityManager,
    actor: ConfigActor,
    ref: ConfigKeyRef & { expectedVersion?: number },
  ): Promise<ConfigEntryEntity> {
    const revision = await this.nextRevision(manager);
    const current = await this.latest(manager, ref);
    if (!current || current.deleted) {
      throw new ConfigException(ConfigExceptionCode.NotFound, `config ${ref.namespace}/${ref.key} not found in ${ref.environment}`);
    }
    this.checkExpectedVersion(ref, ref.expectedVersion, current.version);
    return this.appendVersion(manager, actor, ref, current, revision, {
      value: null,
      classification: current.classification as Classification,
      deleted: true,
      type: ConfigEventType.Deleted,
    });
  }

  /** A key's versions in one environment, newest first, deletions included; `nextBeforeVersion` pages on. */
  history(
    actor: ConfigActor,
    ref: ConfigKeyRef & { beforeVersion?: number; limit?: number },
  ): Promise<{ entries: ConfigEntryEntity[]; nextBeforeVersion?: number }> {
    return this.operations.track('history', ref.namespace, () => this.historyPage(actor, ref));
  }

  private async historyPage(
    actor: ConfigActor,
    ref: ConfigKeyRef & { beforeVersion?: number; limit?: number },
  ): Promise<{ entries: ConfigEntryEntity[]; nextBeforeVersion?: number }> {
    this.assertRef(ref);
    assertAllowed(actor, 'configs:read', ref.environment);
    const limit = ref.limit || DEFAULT_HISTORY_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_PAGE) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, `limit must be between 1 and ${MAX_HISTORY_PAGE}`, 'limit');
    }
    const query = this.database.dataSource
      .getRepository(ConfigEntryEntity)
      .createQueryBuilder('e')
      .where('e.namespace = :namespace AND e.key = :key AND e.environment = :environment', ref)
      .orderBy('e.version', 'DESC')
      .limit(limit + 1);
    if (ref.beforeVersion) query.andWhere('e.version < :before', { before: ref.beforeVersion });
    const rows = await query.getMany();
    if (rows.length === 0 && !ref.beforeVersion) {
      throw new ConfigException(ConfigExceptionCode.NotFound, `config ${ref.namespace}/${ref.key} has no history in ${ref.environment}`);
    }
    const entries = rows.slice(0, limit);
    return { entries, nextBeforeVersion: rows.length > limit ? entries.at(-1)!.version : undefined };
  }

  /** Writes the value of `version` as a new version: history only grows, so a rollback can itself be rolled back. */
  rollback(actor: ConfigActor, ref: ConfigKeyRef & { version: number; expectedVersion?: number }): Promise<ConfigEntryEntity> {
    return this.operations.track('rollback', ref.namespace, () => this.rollbackChecked(actor, ref));
  }

  private async rollbackChecked(actor: ConfigActor, ref: ConfigKeyRef & { version: number; expectedVersion?: number }): Promise<ConfigEntryEntity> {
    this.assertRef(ref);
    assertAllowed(actor, 'configs:write', ref.environment);
    if (!Number.isInteger(ref.version) || ref.version < 1) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, 'version must be a positive integer', 'version');
    }
    return this.write([ref], async (manager) => {
      const revision = await this.nextRevision(manager);
      const current = await this.latest(manager, ref);
      this.checkExpectedVersion(ref, ref.expectedVersion, current?.version ?? 0);
      const target = await manager.findOne(ConfigEntryEntity, {
        where: { namespace: ref.namespace, key: ref.key, environment: ref.environment, version: ref.version },
      });
      if (!target) {
        const oldestKept = await this.oldestKeptVersion(manager, ref);
        throw new ConfigException(
          ConfigExceptionCode.NotFound,
          oldestKept !== undefined && ref.version < oldestKept
            ? `config ${ref.namespace}/${ref.key} no longer has version ${ref.version} in ${ref.environment}: max_versions pruned ` +
                `the versions before ${oldestKept}, the oldest kept version`
            : `config ${ref.namespace}/${ref.key} has no version ${ref.version} in ${ref.environment}`,
          'version',
        );
      }
      if (target.deleted) {
        throw new ConfigException(
          ConfigExceptionCode.InvalidValue,
          `version ${ref.version} deleted the key; roll back to a version that has a value`,
          'version',
        );
      }
      // The value must still satisfy the schema in force today, whatever it satisfied when first written.
      this.settings.assertValid(await this.settings.effective(ref.namespace, manager), ref.key, target.value);
      assertLlmKind(ref.key, target.value);
      const rolledBack = await this.appendVersion(manager, actor, ref, current, revision, {
        value: target.value,
        classification: target.classification as Classification,
        type: ConfigEventType.RolledBack,
        details: { rolled_back_to: target.version },
      });
      await assertChainEndpointsResolve(manager, this.database.schema, this.settings, ref, actor);
      return rolledBack;
    });
  }

  /** Brings a deleted key back with the value it had before the deletion, as a new version. */
  undelete(actor: ConfigActor, ref: ConfigKeyRef & { expectedVersion?: number }): Promise<ConfigEntryEntity> {
    return this.operations.track('undelete', ref.namespace, () => this.undeleteChecked(actor, ref));
  }

  private async undeleteChecked(actor: ConfigActor, ref: ConfigKeyRef & { expectedVersion?: number }): Promise<ConfigEntryEntity> {
    this.assertRef(ref);
    assertAllowed(actor, 'configs:write', ref.environment);
    return this.write([ref], async (manager) => {
      const revision = await this.nextRevision(manager);
      const current = await this.latest(manager, ref);
      if (!current) {
        throw new ConfigException(ConfigExceptionCode.NotFound, `config ${ref.namespace}/${ref.key} not found in ${ref.environment}`);
      }
      if (!current.deleted) {
        throw new ConfigException(
          ConfigExceptionCode.Conflict,
          `config ${ref.namespace}/${ref.key} in ${ref.environment} is not deleted (version ${current.version} is live)`,
        );
      }
      this.checkExpectedVersion(ref, ref.expectedVersion, current.version);
      const restored = await manager
        .getRepository(ConfigEntryEntity)
        .createQueryBuilder('e')
        .where('e.namespace = :namespace AND e.key = :key AND e.environment = :environment AND NOT e.deleted', ref)
        .orderBy('e.version', 'DESC')
        .getOne();
      if (!restored) {
        const oldestKept = (await this.oldestKeptVersion(manager, ref)) ?? 1;
        throw new ConfigException(
          ConfigExceptionCode.NotFound,
          oldestKept > 1
            ? `config ${ref.namespace}/${ref.key} has no value left to restore in ${ref.environment}: max_versions pruned the versions before ${oldestKept}`
            : `config ${ref.namespace}/${ref.key} never had a value in ${ref.environment}`,
        );
      }
      this.settings.assertValid(await this.settings.effective(ref.namespace, manager), ref.key, restored.value);
      assertLlmKind(ref.key, restored.value);
      const undeleted = await this.appendVersion(manager, actor, ref, current, revision, {
        value: restored.value,
        classification: restored.classification as Classification,
        type: ConfigEventType.Restored,
        details: { restored_from: restored.version },
      });
      await assertChainEndpointsResolve(manager, this.database.schema, this.settings, ref, actor);
      return undeleted;
    });
  }

  /** The live keys of one namespace as `environment` resolves them (most specific environment wins per key). */
  list(actor: ConfigActor, namespace: string, environment: string): Promise<ResolvedConfig[]> {
    return this.operations.track('list', namespace, () => this.listResolved(actor, namespace, environment));
  }

  private async listResolved(actor: ConfigActor, namespace: string, environment: string): Promise<ResolvedConfig[]> {
    assertNamespace(namespace);
    assertEnvironment(environment);
    assertAllowed(actor, 'configs:read', environment);
    const environments = await this.resolutionOrder(namespace, environment);
    const rows = await this.database.dataSource
      .getRepository(ConfigEntryEntity)
      .createQueryBuilder('e')
      .distinctOn(['e.key', 'e.environment'])
      .where('e.namespace = :namespace', { namespace })
      .andWhere('e.environment IN (:...environments)', { environments })
      .orderBy('e.key')
      .addOrderBy('e.environment')
      .addOrderBy('e.version', 'DESC')
      .getMany();
    const byKey = new Map<string, ConfigEntryEntity[]>();
    for (const row of rows) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row]);
    const resolved: ResolvedConfig[] = [];
    for (const [, versions] of [...byKey].sort(([a], [b]) => a.localeCompare(b))) {
      // A tombstone in a specific environment falls through to the less specific ones, as on a single read.
      const entry = environments
        .map((env) => versions.find((v) => v.environment === env))
        .find((candidate) => candidate !== undefined && !candidate.deleted);
      if (entry) resolved.push({ entry, resolvedFrom: entry.environment });
    }
    return resolved;
  }

  private async resolutionOrder(namespace: string, environment: string): Promise<string[]> {
    return this.settings.resolutionOrder((await this.settings.effectiveForRead(namespace)).settings, environment);
  }

  /** The namespaces directly below `namespace` (their last segment), in order; any environment, deleted keys too. */
  childNamespaces(actor: ConfigActor, namespace: string, environment: string): Promise<string[]> {
    return this.operations.track('child_namespaces', namespace, () => this.childNamespacesOf(actor, namespace, environment));
  }

  private async childNamespacesOf(actor: ConfigActor, namespace: string, environment: string): Promise<string[]> {
    assertNamespace(namespace);
    assertEnvironment(environment);
    assertAllowed(actor, 'configs:read', environment);
    const rows: Array<{ child: string }> = await this.database.dataSource.query(
      `SELECT DISTINCT split_part(substr(namespace, $2), '/', 1) AS child FROM ${this.database.schema}.config_entries
        WHERE namespace LIKE $1 ESCAPE '\\' ORDER BY 1`,
      [`${escapeLike(namespace)}/%`, namespace.length + 2],
    );
    return rows.map((row) => row.child);
  }

  /** Highest revision written so far. */
  async currentRevision(): Promise<number> {
    return (await this.revisions()).current;
  }

  /**
   * The revision a watch from `startRevision` delivers the changes after; 0 starts after the current revision.
   * REVISION_COMPACTED when pruning (max_versions) may have removed a change the watch would replay: as etcd, a
   * client that fell that far behind reloads, then watches from above the compacted revision.
   */
  watchStart(namespacePrefix: string, startRevision: number): Promise<number> {
    return this.operations.track('watch_start', namespacePrefix, async () => {
      if (namespacePrefix !== '') assertNamespace(namespacePrefix);
      if (!Number.isSafeInteger(startRevision) || startRevision < 0) {
        throw new ConfigException(ConfigExceptionCode.InvalidValue, 'start_revision must be 0 (the next change) or a revision', 'start_revision');
      }
      const { current, compacted } = await this.revisions();
      if (startRevision === 0) return current;
      if (startRevision <= compacted) {
        throw new ConfigException(
          ConfigExceptionCode.RevisionCompacted,
          `start_revision ${startRevision} is compacted: max_versions pruned versions up to revision ${compacted}, so the ` +
            `changes from ${startRevision} cannot all be replayed; reload, then watch from revision ${compacted + 1} or later`,
          'start_revision',
          { 'compacted-revision': String(compacted) },
        );
      }
      return startRevision - 1;
    });
  }

  private async revisions(): Promise<{ current: number; compacted: number }> {
    const rows: Array<{ value: string; compacted_revision: string }> = await this.database.dataSource.query(
      `SELECT value, compacted_revision FROM ${this.database.schema}.revision_counter`,
    );
    return { current: Number(rows[0]?.value ?? 0), compacted: Number(rows[0]?.compacted_revision ?? 0) };
  }

  /**
   * Changes with revision > `afterRevision` under `namespacePrefix`, in revision order, at most one batch, without
   * those in environments the actor may not read; `scannedTo` is where the next batch starts, past hidden rows too.
   */
  changesSince(
    actor: ConfigActor,
    namespacePrefix: string,
    afterRevision: number,
  ): Promise<{ changes: ConfigEntryEntity[]; scannedTo: number }> {
    return this.operations.track('watch_poll', namespacePrefix, () => this.changesAfter(actor, namespacePrefix, afterRevision));
  }

  private async changesAfter(
    actor: ConfigActor,
    namespacePrefix: string,
    afterRevision: number,
  ): Promise<{ changes: ConfigEntryEntity[]; scannedTo: number }> {
    if (namespacePrefix !== '') assertNamespace(namespacePrefix);
    const params: unknown[] = [afterRevision, WATCH_BATCH];
    let underPrefix = '';
    if (namespacePrefix !== '') {
      params.push(namespacePrefix, `${escapeLike(namespacePrefix)}/%`);
      underPrefix = `AND (namespace = $3 OR namespace LIKE $4 ESCAPE '\\')`;
    }
    // The counter read in the same statement (one snapshot) is a high-water mark: revisions are taken under its row
    // lock and committed in order, so no change at or below it can still appear. A scan that found nothing under the
    // prefix moves up to it rather than starting over from the same revision.
    const rows: Array<Record<string, unknown>> = await this.database.dataSource.query(
      `SELECT counter.value AS committed_revision, e.* FROM ${this.database.schema}.revision_counter AS counter
         LEFT JOIN LATERAL (
           SELECT ${ENTRY_COLUMNS} FROM ${this.database.schema}.config_entries
            WHERE revision > $1 ${underPrefix} ORDER BY revision LIMIT $2
         ) AS e ON true`,
      params,
    );
    const entries = rows.filter((row) => row.id !== null && row.id !== undefined).map(entryOfRow);
    const committed = Number(rows[0]?.committed_revision ?? 0);
    const scannedTo =
      entries.length === WATCH_BATCH ? entries.at(-1)!.revision : Math.max(afterRevision, entries.at(-1)?.revision ?? 0, committed);
    return { changes: this.visibleChanges(actor, namespacePrefix, entries), scannedTo };
  }

  /** The changes among `entries` under `namespacePrefix` in environments `actor` may read. */
  visibleChanges(actor: ConfigActor, namespacePrefix: string, entries: readonly ConfigEntryEntity[]): ConfigEntryEntity[] {
    const below = `${namespacePrefix}/`;
    return entries.filter(
      (entry) =>
        (namespacePrefix === '' || entry.namespace === namespacePrefix || entry.namespace.startsWith(below)) &&
        // Per change, with the watcher's address and the time of delivery: ABAC conditions hold for the whole watch.
        authorize(actor.principal, 'configs:read', { environment: entry.environment, ip: actor.ip }).allowed,
    );
  }

  /** Every namespace's changes after `afterRevision`, for the change feed. */
  private async rowsAfter(afterRevision: number, limit: number): Promise<ConfigEntryEntity[]> {
    const rows: Array<Record<string, unknown>> = await this.database.dataSource.query(
      `SELECT ${ENTRY_COLUMNS} FROM ${this.database.schema}.config_entries WHERE revision > $1 ORDER BY revision LIMIT $2`,
      [afterRevision, limit],
    );
    return rows.map(entryOfRow);
  }

  /**
   * Runs a write transaction on `refs`, drops their cached reads on every replica, then wakes this instance's
   * watchers: they need not wait for their next poll.
   */
  private async write<T>(refs: readonly ConfigKeyRef[], work: (manager: EntityManager) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await this.database.dataSource.transaction(work);
    } finally {
      // Also after a failure: a COMMIT whose reply was lost may still have committed.
      await this.latestCache.invalidate([...new Set(refs.map(cacheKeyOf))]);
    }
    this.options.onCommitted?.();
    this.wakeWatchers();
    return result;
  }

  /** A commit on this instance, or one the event bus announced from another: the watches here read it at once. */
  wakeWatchers(): void {
    this.changeFeed.wake();
  }

  /**
   * Appends the version after `current`, and its event, in `manager`'s transaction. Callers take `revision` first:
   * its row lock serializes writers, so `current` and any check-and-set on it cannot race.
   */
  private async appendVersion(
    manager: EntityManager,
    actor: ConfigActor,
    ref: ConfigKeyRef,
    current: ConfigEntryEntity | null,
    revision: number,
    write: { value: unknown; classification: Classification; deleted?: boolean; type: ConfigEventType; details?: Record<string, number> },
  ): Promise<ConfigEntryEntity> {
    const version = (current?.version ?? 0) + 1;
    const event = this.outbox.rowOf({
      type: write.type,
      subject: subjectOf(ref),
      payload: {
        namespace: ref.namespace,
        key: ref.key,
        environment: ref.environment,
        version,
        revision,
        ...(write.deleted ? {} : { classification: write.classification }),
        ...write.details,
      },
      actor: actorOf(actor),
      correlationId: actor.requestId,
    });
    // One statement, one round trip, on the hottest write path: the version, its event, and the pruning of versions
    // beyond the namespace's max_versions (read afresh here) with the compacted revision raised to the highest pruned.
    const schema = this.database.schema;
    const [row]: Array<Record<string, unknown>> = await manager.query(
      `WITH entry AS (
         INSERT INTO ${schema}.config_entries
           (id, namespace, key, environment, version, revision, value, classification, deleted, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10) RETURNING ${ENTRY_COLUMNS}
       ), event AS (
         INSERT INTO ${event.table} (id, subject, envelope) VALUES ($11, $12, $13)
       ), kept AS (
         SELECT max_versions FROM ${schema}.namespace_settings
          WHERE namespace = ANY($14::text[]) ORDER BY length(namespace) DESC LIMIT 1
       ), pruned AS (
         DELETE FROM ${schema}.config_entries
          WHERE namespace = $2 AND key = $3 AND environment = $4 AND version <= $5 - (SELECT max_versions FROM kept)
         RETURNING revision
       ), compacted AS (
         UPDATE ${schema}.revision_counter SET compacted_revision = GREATEST(compacted_revision, (SELECT max(revision) FROM pruned))
          WHERE EXISTS (SELECT 1 FROM pruned)
       )
       SELECT * FROM entry`,
      [
        randomUUID(),
        ref.namespace,
        ref.key,
        ref.environment,
        version,
        revision,
        write.value === null || write.value === undefined ? null : JSON.stringify(write.value),
        write.classification,
        write.deleted ?? false,
        actor.principal.id,
        event.id,
        event.subject,
        event.envelope,
        selfAndAncestors(ref.namespace),
      ],
    );
    const saved = entryOfRow(row!);
    return saved;
  }

  /** The oldest version of `ref` still stored, or undefined when it has none. */
  private async oldestKeptVersion(manager: EntityManager, ref: ConfigKeyRef): Promise<number | undefined> {
    const [row]: Array<{ oldest: number | null }> = await manager.query(
      `SELECT min(version) AS oldest FROM ${this.database.schema}.config_entries WHERE namespace = $1 AND key = $2 AND environment = $3`,
      [ref.namespace, ref.key, ref.environment],
    );
    return row?.oldest ?? undefined;
  }

  /**
   * A path is a key or a namespace, never both (as a file system): a new key may not sit where keys already live
   * below it, nor below a path that is a key. Keys keep their history when deleted, so their paths stay keys.
   */
  private async assertPathIsFreeForKey(manager: EntityManager, ref: ConfigKeyRef): Promise<void> {
    const path = `${ref.namespace}/${ref.key}`;
    const below: Array<{ namespace: string; key: string }> = await manager.query(
      `SELECT namespace, key FROM ${this.database.schema}.config_entries WHERE namespace = $1 OR namespace LIKE $2 ESCAPE '\\' LIMIT 1`,
      [path, `${escapeLike(path)}/%`],
    );
    if (below[0]) {
      throw new ConfigException(
        ConfigExceptionCode.Conflict,
        `${path} is a namespace (it holds ${below[0].namespace}/${below[0].key}); a path is a key or a namespace, never both`,
        'key',
      );
    }
    const segments = ref.namespace.split('/');
    const parents = segments.slice(1).map((_, index) => segments.slice(0, index + 1).join('/'));
    const names = segments.slice(1);
    if (parents.length === 0) return;
    const above: Array<{ namespace: string; key: string }> = await manager.query(
      `SELECT namespace, key FROM ${this.database.schema}.config_entries
        WHERE (namespace, key) IN (SELECT * FROM unnest($1::text[], $2::text[])) LIMIT 1`,
      [parents, names],
    );
    if (above[0]) {
      throw new ConfigException(
        ConfigExceptionCode.Conflict,
        `${above[0].namespace}/${above[0].key} is a key, so it cannot hold ${path}; a path is a key or a namespace, never both`,
        'namespace',
      );
    }
  }

  private assertRef(ref: ConfigKeyRef): void {
    assertNamespace(ref.namespace);
    assertKey(ref.key);
    assertEnvironment(ref.environment);
  }

  private checkExpectedVersion(ref: ConfigKeyRef, expected: number | undefined, live: number): void {
    if (expected !== undefined && expected !== live) {
      throw new ConfigException(
        ConfigExceptionCode.VersionConflict,
        `config ${ref.namespace}/${ref.key} in ${ref.environment} is at version ${live}, not ${expected}`,
        'expected_version',
      );
    }
  }

  /** Takes the next global revision; the counter row lock serializes writers, so revisions follow commit order. */
  private async nextRevision(manager: EntityManager): Promise<number> {
    // Wrapped in a SELECT because TypeORM returns [rows, count] rather than rows for a bare UPDATE.
    const rows: Array<{ value: string }> = await manager.query(
      `WITH next AS (UPDATE ${this.database.schema}.revision_counter SET value = value + 1 RETURNING value) SELECT value FROM next`,
    );
    return Number(rows[0]!.value);
  }

  private async latest(manager: EntityManager, ref: ConfigKeyRef): Promise<ConfigEntryEntity | null> {
    const [row]: Array<Record<string, unknown>> = await manager.query(
      `SELECT ${ENTRY_COLUMNS} FROM ${this.database.schema}.config_entries
        WHERE namespace = $1 AND key = $2 AND environment = $3 ORDER BY version DESC LIMIT 1`,
      [ref.namespace, ref.key, ref.environment],
    );
    return row ? entryOfRow(row) : null;
  }

  /**
   * nextRevision(), then latest() and the namespace's settings, in one round trip (the start_key_write function reads
   * after the revision lock is granted): the single-key write path, which checks the value against its schema.
   */
  private async startKeyWrite(
    manager: EntityManager,
    ref: ConfigKeyRef,
  ): Promise<{ revision: number; current: ConfigEntryEntity | null; settings: EffectiveSettings }> {
    const [row]: Array<{ taken_revision: string; latest_entry: Record<string, unknown> | null; effective_settings: Record<string, unknown> | null }> =
      await manager.query(`SELECT * FROM ${this.database.schema}.start_key_write($1, $2, $3, $4::text[])`, [
        ref.namespace,
        ref.key,
        ref.environment,
        selfAndAncestors(ref.namespace),
      ]);
    return {
      revision: Number(row!.taken_revision),
      current: row!.latest_entry ? entryOfRow(row!.latest_entry) : null,
      settings: this.settings.effectiveFrom(ref.namespace, row!.effective_settings),
    };
  }


  /** The latest version (tombstones included) in every environment the key has been written in. */
  private latestPerEnvironment(namespace: string, key: string): Promise<ConfigEntryEntity[]> {
    return this.database.dataSource
      .getRepository(ConfigEntryEntity)
      .createQueryBuilder('e')
      .distinctOn(['e.environment'])
      .where('e.namespace = :namespace AND e.key = :key', { namespace, key })
      .orderBy('e.environment')
      .addOrderBy('e.version', 'DESC')
      .getMany();
  }
}

function cacheKeyOf(ref: ConfigKeyRef): string {
  return `${ref.namespace}/${ref.key}`;
}

/** JSON, with `createdAt` revived as the Date the entity carries. */
const entriesCodec: CacheCodec<ConfigEntryEntity[]> = {
  encode: (entries) => JSON.stringify(entries),
  decode: (text) =>
    (JSON.parse(text) as Array<ConfigEntryEntity & { createdAt: string }>).map((raw) =>
      Object.assign(new ConfigEntryEntity(), raw, { createdAt: new Date(raw.createdAt) }),
    ),
};

const ENTRY_COLUMNS = 'id, namespace, key, environment, version, revision, value, classification, deleted, created_by, created_at';

/** A config_entries row read with ENTRY_COLUMNS as the entity TypeORM would have built. */
function entryOfRow(row: Record<string, unknown>): ConfigEntryEntity {
  return Object.assign(new ConfigEntryEntity(), {
    id: String(row.id),
    namespace: String(row.namespace),
    key: String(row.key),
    environment: String(row.environment),
    version: Number(row.version),
    revision: Number(row.revision),
    value: row.value ?? null,
    classification: String(row.classification),
    deleted: row.deleted === true,
    createdBy: String(row.created_by),
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(String(row.created_at)),
  });
}

/** `_` and `%` are LIKE wildcards, and `_` is allowed in names. */
function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (match) => `\\${match}`);
}

function subjectOf(ref: ConfigKeyRef): string {
  return `configs/${ref.namespace}/${ref.key}@${ref.environment}`;
}

function actorOf(actor: ConfigActor): { id: string; type: string; ipAddress?: string; userAgent?: string } {
  return { id: actor.principal.id, type: actor.principal.type, ipAddress: actor.ip, userAgent: actor.userAgent };
}

const llmKinds = new LlmConfigValidator();

/**
 * Keys named like an LLM kind (`endpoint.x`, `failover.x`, `preset.x`, `pricing.x`) hold that kind whichever API writes
 * them: the plain configs API must not store what LlmConfigService refuses (a plaintext API key above all).
 */
function assertLlmKind(key: string, value: unknown): void {
  const kind = (Object.keys(LLM_CONFIG_KINDS) as LlmConfigKindName[]).find((candidate) => nameOf(candidate, key) !== undefined);
  if (kind) llmKinds.assertValid(kind, key, value);
}
