import { create, fromJson, toJson, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate, ValueSchema } from '@bufbuild/protobuf/wkt';
import {
  ChangeType,
  Classification as ClassificationProto,
  ConfigEntrySchema,
  ConfigService,
  type ConfigEntry,
  type NamespaceSettingsSchema,
} from '@llmops/contracts';
import { principalFromMetadata } from '@llmops/platform-auth';
import type { CallContext, ServiceImplementation } from '@llmops/platform-grpc';
import type { NamespaceSettings, NamespaceSettingsService } from '../namespace-settings/namespace-settings.service.js';
import type { SecretReferenceResolver } from '../secret-references/secret-reference-resolver.js';
import type { ConfigEntryEntity } from './config-entry.entity.js';
import type { BulkOperation, Classification, ConfigActor, ConfigsService } from './configs.service.js';
import { ConfigException, ConfigExceptionCode } from './exceptions/config.exception.js';

/** ConfigService over gRPC: decode, call the service, encode. */
export class ConfigsGrpcController {
  constructor(
    private readonly configs: ConfigsService,
    private readonly settings: NamespaceSettingsService,
    private readonly secretReferences?: SecretReferenceResolver,
  ) {}

  implementation(): ServiceImplementation<typeof ConfigService> {
    return {
      getConfig: async (request, ctx) => {
        const resolved = await this.configs.get(actorOf(ctx), {
          namespace: request.namespace,
          key: request.key,
          environment: request.environment,
          exact: request.exact,
        });
        const entry = toProto(resolved.entry);
        if (!request.resolveSecrets || resolved.entry.deleted) return { entry, resolvedFrom: resolved.resolvedFrom };
        if (!this.secretReferences) {
          throw new ConfigException(ConfigExceptionCode.Conflict, 'this config-manager has no secret-service to resolve secret references with');
        }
        const withSecrets = await this.secretReferences.resolve(resolved.entry.value as JsonValue, request.environment, ctx);
        entry.value = fromJson(ValueSchema, withSecrets.value);
        return { entry, resolvedFrom: resolved.resolvedFrom, unresolvedSecrets: withSecrets.unresolved };
      },
      setConfig: async (request, ctx) => {
        const entry = await this.configs.set(actorOf(ctx), {
          namespace: request.namespace,
          key: request.key,
          environment: request.environment,
          value: request.value ? toJson(ValueSchema, request.value) : undefined,
          classification: classificationFromProto(request.classification),
          expectedVersion: optionalNumber(request.expectedVersion),
        });
        return { entry: toProto(entry) };
      },
      deleteConfig: async (request, ctx) => {
        const result = await this.configs.delete(actorOf(ctx), {
          namespace: request.namespace,
          key: request.key,
          environment: request.environment,
          expectedVersion: optionalNumber(request.expectedVersion),
        });
        return { version: BigInt(result.version), revision: BigInt(result.revision) };
      },
      getConfigHistory: async (request, ctx) => {
        const page = await this.configs.history(actorOf(ctx), {
          namespace: request.namespace,
          key: request.key,
          environment: request.environment,
          beforeVersion: Number(request.beforeVersion),
          limit: request.limit,
        });
        return { entries: page.entries.map(toProto), nextBeforeVersion: BigInt(page.nextBeforeVersion ?? 0) };
      },
      rollbackConfig: async (request, ctx) => {
        const entry = await this.configs.rollback(actorOf(ctx), {
          namespace: request.namespace,
          key: request.key,
          environment: request.environment,
          version: Number(request.version),
          expectedVersion: optionalNumber(request.expectedVersion),
        });
        return { entry: toProto(entry) };
      },
      undeleteConfig: async (request, ctx) => {
        const entry = await this.configs.undelete(actorOf(ctx), {
          namespace: request.namespace,
          key: request.key,
          environment: request.environment,
          expectedVersion: optionalNumber(request.expectedVersion),
        });
        return { entry: toProto(entry) };
      },
      getNamespaceSettings: async (request, ctx) => {
        const effective = await this.settings.read(actorOf(ctx), request.namespace);
        return { settings: settingsToProto(effective.settings), definedAt: effective.definedAt ?? '' };
      },
      setNamespaceSettings: async (request, ctx) => {
        const settings = await this.settings.set(actorOf(ctx), {
          namespace: request.namespace,
          schema: request.schema ? toJson(ValueSchema, request.schema) : undefined,
          keySchemas: Object.fromEntries(Object.entries(request.keySchemas).map(([pattern, schema]) => [pattern, toJson(ValueSchema, schema)])),
          environments: request.environments,
          maxVersions: request.maxVersions,
          expectedVersion: optionalNumber(request.expectedVersion),
        });
        return { settings: settingsToProto(settings) };
      },
      validateConfigs: async (request, ctx) => {
        const values = Object.fromEntries(Object.entries(request.values).map(([key, value]) => [key, toJson(ValueSchema, value)]));
        const results = await this.settings.validate(actorOf(ctx), request.namespace, values);
        return {
          valid: results.every((result) => result.problems.length === 0),
          results: results.map((result) => ({ key: result.key, valid: result.problems.length === 0, problems: result.problems })),
        };
      },
      bulkApply: async (request, ctx) => {
        const operations = request.operations.map((operation, index): BulkOperation => {
          const { case: kind, value } = operation.operation;
          if (kind === 'set') {
            return {
              kind,
              namespace: value.namespace,
              key: value.key,
              environment: value.environment,
              value: value.value ? toJson(ValueSchema, value.value) : undefined,
              classification: classificationFromProto(value.classification),
              expectedVersion: optionalNumber(value.expectedVersion),
            };
          }
          if (kind === 'delete') {
            return { kind, namespace: value.namespace, key: value.key, environment: value.environment, expectedVersion: optionalNumber(value.expectedVersion) };
          }
          throw new ConfigException(ConfigExceptionCode.InvalidValue, `operation ${index}: set or delete is required`, `operations[${index}]`);
        });
        const entries = await this.configs.bulk(actorOf(ctx), operations);
        return { entries: entries.map(toProto) };
      },
      listConfigs: (request, ctx) => this.listConfigs(request.namespace, request.environment, ctx),
      watchConfigs: (request, ctx) => this.watchConfigs(request.namespacePrefix, Number(request.startRevision), request.notifyCreated, ctx),
    };
  }

  private async *listConfigs(namespace: string, environment: string, ctx: CallContext) {
    const actor = actorOf(ctx);
    const keys = await this.configs.list(actor, namespace, environment);
    const children = await this.configs.childNamespaces(actor, namespace, environment);
    if (keys.length === 0 && children.length === 0) {
      throw new ConfigException(ConfigExceptionCode.NotFound, `nothing at ${namespace} in ${environment}: it holds no keys and no namespaces`);
    }
    for (const resolved of keys) yield { entry: toProto(resolved.entry) };
    for (const childNamespace of children) yield { childNamespace };
  }

  /**
   * Streams every change after the start revision in revision order, then follows new ones until cancelled. A start
   * that is compacted fails before anything is sent, so with `notifyCreated` the first response says the watch holds.
   * Changes come from the replica's shared change feed; a watch further behind than the feed holds reads the database
   * until it reaches it.
   */
  private async *watchConfigs(namespacePrefix: string, startRevision: number, notifyCreated: boolean, ctx: CallContext) {
    const actor = actorOf(ctx);
    const feed = this.configs.changeFeed;
    await feed.join();
    try {
      let after = await this.configs.watchStart(namespacePrefix, startRevision);
      if (notifyCreated) yield { created: true, revision: BigInt(after) };
      // A closed feed (the service stopping) ends the stream; the client resumes from its last revision elsewhere.
      while (!ctx.signal.aborted && !feed.closed) {
        const fromFeed = feed.since(after);
        const { changes, scannedTo } = fromFeed
          ? { changes: this.configs.visibleChanges(actor, namespacePrefix, fromFeed.changes), scannedTo: fromFeed.scannedTo }
          : await this.configs.changesSince(actor, namespacePrefix, after);
        for (const change of changes) {
          yield {
            type: change.deleted ? ChangeType.DELETE : ChangeType.PUT,
            entry: toProto(change),
            revision: BigInt(change.revision),
          };
        }
        const caughtUp = scannedTo === after;
        after = scannedTo;
        if (caughtUp) await feed.waitPast(after, ctx.signal);
      }
    } finally {
      feed.leave();
    }
  }
}

function actorOf(ctx: CallContext): ConfigActor {
  const principal = principalFromMetadata(ctx.metadata);
  if (!principal) {
    throw new ConfigException(ConfigExceptionCode.Unauthenticated, 'the call carries no authenticated principal');
  }
  return {
    principal,
    requestId: ctx.requestId,
    ip: ctx.metadata['x-actor-ip'],
    userAgent: ctx.metadata['x-actor-user-agent'],
  };
}

function toProto(entry: ConfigEntryEntity): ConfigEntry {
  return create(ConfigEntrySchema, {
    namespace: entry.namespace,
    key: entry.key,
    environment: entry.environment,
    value: entry.deleted ? undefined : fromJson(ValueSchema, entry.value as JsonValue),
    version: BigInt(entry.version),
    revision: BigInt(entry.revision),
    classification: classificationToProto(entry.classification as Classification),
    updatedBy: entry.createdBy,
    updatedAt: timestampFromDate(entry.createdAt),
    deleted: entry.deleted,
  });
}

function settingsToProto(settings: NamespaceSettings): MessageInitShape<typeof NamespaceSettingsSchema> {
  return {
    namespace: settings.namespace,
    schema: settings.schema === undefined ? undefined : fromJson(ValueSchema, settings.schema as JsonValue),
    keySchemas: Object.fromEntries(Object.entries(settings.keySchemas).map(([pattern, schema]) => [pattern, fromJson(ValueSchema, schema as JsonValue)])),
    environments: settings.environments,
    maxVersions: settings.maxVersions ?? 0,
    version: BigInt(settings.version),
    updatedBy: settings.updatedBy ?? '',
    updatedAt: settings.updatedAt ? timestampFromDate(settings.updatedAt) : undefined,
  };
}

function optionalNumber(value: bigint | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

const classificationNames: Record<Classification, ClassificationProto> = {
  public: ClassificationProto.PUBLIC,
  internal: ClassificationProto.INTERNAL,
  confidential: ClassificationProto.CONFIDENTIAL,
};

function classificationToProto(value: Classification): ClassificationProto {
  return classificationNames[value] ?? ClassificationProto.UNSPECIFIED;
}

function classificationFromProto(value: ClassificationProto): Classification | undefined {
  const found = (Object.keys(classificationNames) as Classification[]).find((k) => classificationNames[k] === value);
  return found;
}
