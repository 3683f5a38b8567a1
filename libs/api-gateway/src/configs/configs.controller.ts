import { Readable } from 'node:stream';
import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Optional,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
  StreamableFile,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { create, fromJson, type JsonValue } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { GetConfigRequestSchema, type GetConfigResponse, type WatchConfigsResponse } from '@llmops/contracts';
import type { Principal } from '@llmops/platform-auth';
import { GrpcCallError } from '@llmops/platform-grpc';
import { status } from '@grpc/grpc-js';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import {
  Authenticated,
  CurrentPrincipal,
  environmentFromQuery,
  RequirePermission,
  type AuthenticatedRequest,
} from '../access/access-policy.decorator.js';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { ConfigReadCache } from '../config-cache/config-read-cache.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { jsonSchemaOf } from '../openapi/json-schema.js';
import { CONFIG_CLIENT, type ConfigClient } from '../upstreams/upstream-clients.js';
import { upstreamMetadata } from '../upstreams/upstream-metadata.js';
import {
  bulkApplyBody,
  bulkApplyRequestOf,
  CLASSIFICATIONS,
  classificationOf,
  configTargetOf,
  MAX_BULK_OPERATIONS,
  MAX_HISTORY_LIMIT,
  MAX_VALIDATE_VALUES,
  optionalBigInt,
  parseHistoryQuery,
  READ_ACTIONS,
  readEnvironmentOf,
  requiredEnv,
  rollbackBody,
  splitPath,
  undeleteBody,
  postPolicy,
  validateConfigsBody,
  validateNamespaceOf,
  versionFromIfMatch,
  watchNamespaceOf,
  watchStartOf,
  wholePath,
  writeTargetOf,
  type BulkApplyBody,
} from './config-requests.js';
import {
  bulkApplyViewOf,
  configHistoryViewOf,
  configViewOf,
  validationViewOf,
  type BulkApplyView,
  type ConfigHistoryView,
  type ConfigView,
  type NamespaceListingView,
  type ValidationView,
} from './config-views.js';
import { revisionCompactedViewOf, SERVER_SENT_EVENTS, watchEvents } from './config-watch-events.js';

const putConfigBody = z.strictObject({
  value: z.json().refine((v) => v !== undefined, 'is required'),
  classification: z.enum(CLASSIFICATIONS).optional(),
  expected_version: z.number().int().min(0).optional(),
});

const rollbackBodyPipe = new ZodBodyPipe(rollbackBody);
/** A body is optional: `POST …/undelete` with none undeletes without a check-and-set (unless If-Match says so). */
const undeleteBodyPipe = new ZodBodyPipe(undeleteBody);
const validateBodyPipe = new ZodBodyPipe(validateConfigsBody);
const bulkApplyBodyPipe = new ZodBodyPipe(bulkApplyBody);

const pathParam = { name: '*', description: 'namespace segments then the key, e.g. acme/chatbot/model', example: 'acme/chatbot/model' };
const envQuery = { name: 'env', required: true, description: 'environment: base, development, staging, production, …' };

function isNotFound(error: unknown): boolean {
  return error instanceof GrpcCallError && error.code === status.NOT_FOUND;
}

@ApiTags('configs')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@Controller('api/v1/configs')
export class ConfigsController implements BeforeApplicationShutdown {
  /**
   * Open watches and their responses. A watch never completes on its own, and one whose client stopped reading can
   * sit blocked on a full socket, so stopping destroys the response as well as cancelling the upstream call; the
   * HTTP server cannot close while one is open.
   */
  private readonly openWatches = new Map<AbortController, { destroy(): void }>();

  constructor(
    @Inject(CONFIG_CLIENT) private readonly configs: ConfigClient,
    // Reads are served from it while config-manager's watch keeps it coherent; this gateway's own writes clear it at once.
    @Optional() @Inject(ConfigReadCache) private readonly readCache?: ConfigReadCache,
  ) {}

  beforeApplicationShutdown(): void {
    for (const [cancel, response] of this.openWatches) {
      cancel.abort();
      response.destroy();
    }
    this.openWatches.clear();
  }

  @Get('*')
  @RequirePermission('configs:read', { environment: readEnvironmentOf })
  @ApiOperation({
    summary:
      'Read a key, resolved through the environment chain unless exact=true; …/<key>/history lists its versions; ' +
      '…/<namespace>/watch follows the changes under a namespace as Server-Sent Events',
    description:
      'GET /api/v1/configs/<namespace>/<key>/history answers {"data": [versions, newest first, deletions included as ' +
      '"deleted": true with "value": null], "next_before_version": number | null}. ' +
      'GET /api/v1/configs/<namespace>/watch (a namespace of one or more segments) needs configs:read but no env, and ' +
      'streams text/event-stream: first the comment ": watching <namespace> from revision <n|next>", then for every ' +
      'change under the namespace in an environment the caller may read, in revision order, an event with ' +
      '"id: <revision>", "event: put|delete" and "data: {"revision", "type", "entry": <the version written; a deletion\'s ' +
      'has "deleted": true and "value": null>}"; ": keep-alive" after 15 s without one. The stream ends only when the ' +
      'upstream fails; reconnect with Last-Event-ID to resume after the last event seen. A start at or below the ' +
      "compacted revision (versions pruned by a namespace's max_versions) is answered 410 with the error envelope plus " +
      '"compacted_revision" and "oldest_resumable_revision": reload the keys, then watch from at least that revision.',
  })
  @ApiOkResponse({
    description: 'JSON for a key, its history or a namespace listing; text/event-stream for a watch',
    content: { 'application/json': { schema: { type: 'object' } }, 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiParam({
    ...pathParam,
    description: `${pathParam.description}; append /history for the version history; or namespace segments then watch`,
  })
  @ApiQuery({ ...envQuery, required: false, description: `reads and history (required): ${envQuery.description}; not used by watch` })
  @ApiQuery({ name: 'exact', required: false, description: 'key read only: read this environment only' })
  @ApiQuery({
    name: 'resolve_secrets',
    required: false,
    description:
      'key read only: replace {"$secret": "<path>"} (optionally with "field") by the secret\'s value in env, read as the caller (needs secrets:reveal there, audited); references left in place are listed in unresolved_secrets',
  })
  @ApiQuery({
    name: 'before_version',
    required: false,
    description: 'history only: list versions below this one (next_before_version of the previous page); the newest when absent',
    schema: { type: 'integer', minimum: 0 },
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: 'history only: at most this many versions; 50 when absent',
    schema: { type: 'integer', minimum: 1, maximum: MAX_HISTORY_LIMIT },
  })
  @ApiQuery({
    name: 'start_revision',
    required: false,
    description: 'watch only: the first revision to deliver (earlier changes are replayed); the next change when absent or 0',
    schema: { type: 'integer', minimum: 0 },
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'watch only: the id of the last event seen, sent by a reconnecting SSE client; resumes after it, over start_revision',
  })
  async get(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
    @Query() query: Record<string, unknown>,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ConfigView | ConfigHistoryView | NamespaceListingView | StreamableFile | Response> {
    const watched = watchNamespaceOf(path);
    if (watched !== undefined) {
      return this.watch(watched, watchStartOf(query, lastEventId), upstreamMetadata(request, principal), String(request.id), reply);
    }
    const environment = requiredEnv(query.env);
    const metadata = upstreamMetadata(request, principal);
    const whole = wholePath(path);
    // One segment is always a namespace (a key lives in one); a longer path is the key if there is one.
    if (whole !== '' && !whole.includes('/')) return (await this.listing(whole, environment, metadata)) ?? this.nothingAt(whole, environment);
    const { namespace, key, action } = configTargetOf(path, READ_ACTIONS);
    if (action === 'history') {
      const { before_version: beforeVersion, limit } = parseHistoryQuery(query);
      const response = await this.configs.getConfigHistory(
        { namespace, key, environment, beforeVersion: BigInt(beforeVersion ?? 0), limit: limit ?? 0 },
        { metadata },
      );
      return configHistoryViewOf(response);
    }
    try {
      const resolveSecrets = isTrue(query.resolve_secrets);
      const read = { namespace, key, environment, exact: isTrue(query.exact), resolveSecrets };
      const load = (): Promise<GetConfigResponse> => this.configs.getConfig(read, { metadata });
      const response = this.readCache ? await this.readCache.read(create(GetConfigRequestSchema, read), load) : await load();
      const view: ConfigView = { ...configViewOf(response.entry), resolved_from: response.resolvedFrom };
      if (!resolveSecrets) return view;
      // The body may now hold secret plaintext: no cache along the way may keep it.
      void reply.header('cache-control', 'no-store');
      return {
        ...view,
        unresolved_secrets: response.unresolvedSecrets.map((unresolved) => ({ path: unresolved.path, reason: unresolved.reason, message: unresolved.message })),
      };
    } catch (error) {
      if (!isNotFound(error)) throw error;
      const listing = await this.listing(whole, environment, metadata);
      if (listing) return listing;
      throw error;
    }
  }

  /**
   * The changes under `namespace` as Server-Sent Events, until the client goes away or the gateway stops. The upstream
   * call has no deadline (a stream gets none unless given one), so a watch can stay open for hours. It is opened
   * before the response starts, so that a watch config-manager refuses is answered with its status (410 for a compacted
   * start), not with a stream that ends at once.
   */
  private async watch(
    namespace: string,
    startRevision: number,
    metadata: Record<string, string>,
    requestId: string,
    reply: FastifyReply,
  ): Promise<StreamableFile | Response> {
    const cancel = new AbortController();
    this.openWatches.set(cancel, reply.raw);
    // The event generator cannot be returned while it awaits the next change, so the response closing (the client went
    // away, or the stream ended) cancels the upstream call itself.
    reply.raw.once('close', () => {
      this.openWatches.delete(cancel);
      cancel.abort();
    });
    const watching = this.configs.watchConfigs(
      { namespacePrefix: namespace, startRevision: BigInt(startRevision), notifyCreated: true },
      { metadata, signal: cancel.signal },
    );
    const changes = watching[Symbol.asyncIterator]();
    let first: IteratorResult<WatchConfigsResponse>;
    try {
      // config-manager answers at once: created, or why it refuses the watch; only then is the status known.
      first = await changes.next();
    } catch (error) {
      cancel.abort();
      const compacted = revisionCompactedViewOf(error, requestId);
      if (!compacted) throw error;
      return new Response(JSON.stringify(compacted), { status: 410, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
    }
    // A watch ends only when something fails or the gateway stops; either way its connection is better closed than
    // kept alive, and an open keep-alive connection would hold up the server's shutdown.
    void reply.header('cache-control', 'no-store').header('x-accel-buffering', 'no').header('connection', 'close');
    return new StreamableFile(Readable.from(watchEvents({ namespace, startRevision }, changesAfterCreated(first, changes))), { type: SERVER_SENT_EVENTS });
  }

  /** The keys and child namespaces of `namespace`, or undefined when it holds neither. */
  private async listing(namespace: string, environment: string, metadata: Record<string, string>): Promise<NamespaceListingView | undefined> {
    const view: NamespaceListingView = { namespace, environment, keys: [], namespaces: [] };
    try {
      for await (const item of this.configs.listConfigs({ namespace, environment }, { metadata })) {
        if (item.entry) view.keys.push({ ...configViewOf(item.entry), resolved_from: item.entry.environment });
        else if (item.childNamespace) view.namespaces.push(item.childNamespace);
      }
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    return view;
  }

  private nothingAt(namespace: string, environment: string): never {
    throw new GatewayException(GatewayErrorCode.NotFound, `nothing at ${namespace} in ${environment}: it holds no keys and no namespaces`);
  }

  @Put('*')
  @RequirePermission('configs:write', { environment: environmentFromQuery })
  @ApiOperation({ summary: 'Write a new version of a key (check-and-set with expected_version or If-Match)' })
  @ApiParam(pathParam)
  @ApiQuery(envQuery)
  @ApiBody({ schema: jsonSchemaOf(putConfigBody) })
  async put(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
    @Query('env') env: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Body(new ZodBodyPipe(putConfigBody)) body: z.infer<typeof putConfigBody>,
  ): Promise<ConfigView> {
    const { namespace, key } = splitPath(path);
    const expectedVersion = body.expected_version ?? versionFromIfMatch(ifMatch);
    const response = await this.configs.setConfig(
      {
        namespace,
        key,
        environment: requiredEnv(env),
        value: fromJson(ValueSchema, body.value as JsonValue),
        classification: classificationOf(body.classification),
        expectedVersion: expectedVersion === undefined ? undefined : BigInt(expectedVersion),
      },
      { metadata: upstreamMetadata(request, principal) },
    );
    this.readCache?.forget(namespace, key);
    return configViewOf(response.entry);
  }

  // Declared before POST '*' (find-my-way prefers a static route to a wildcard in any case).
  @Post('bulk')
  @HttpCode(200)
  // Each operation names its own environment, so no one permission fits the route: config-manager authorizes every
  // operation (configs:write or configs:delete in that operation's environment) and refuses the whole batch if any fails.
  @Authenticated()
  @ApiOperation({
    summary: `Apply up to ${MAX_BULK_OPERATIONS} writes and deletions in one transaction, in order: all of them or none`,
    description:
      'Each operation is {"op": "set", "path": "<namespace>/<key>", "env", "value": <any JSON>, "classification"?, "expected_version"?} ' +
      'or {"op": "delete", "path", "env", "expected_version"?}, and needs configs:write or configs:delete in its env. ' +
      'Answers {"results": [one version per operation, in order; a deletion\'s has "deleted": true and "value": null]}. ' +
      'A refused operation fails the whole request, and the error message starts with "operation <index>: " ' +
      '(409 when expected_version is not the current version).',
  })
  @ApiBody({ schema: jsonSchemaOf(bulkApplyBody) })
  async bulkApply(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Body(bulkApplyBodyPipe) body: BulkApplyBody,
  ): Promise<BulkApplyView> {
    const response = await this.configs.bulkApply(bulkApplyRequestOf(body), { metadata: upstreamMetadata(request, principal) });
    for (const entry of response.entries) this.readCache?.forget(entry.namespace, entry.key);
    return bulkApplyViewOf(response);
  }

  @Post('*')
  @HttpCode(200)
  @RequirePermission(postPolicy.permission, { environment: postPolicy.environment })
  @ApiOperation({
    summary:
      'Act on a key: …/<key>/rollback writes an earlier version\'s value as a new version; …/<key>/undelete restores a deleted key. ' +
      "Or …/<namespace>/validate checks values against the namespace's JSON Schemas, writing nothing",
    description:
      'rollback takes {"version": n, "expected_version"?: n}; undelete takes an optional {"expected_version"?: n}. ' +
      'If-Match may carry the expected version instead. Both need configs:write in env and answer the new version. ' +
      `validate takes {"values": {"<key>": <any JSON>, …}} (1 to ${MAX_VALIDATE_VALUES} keys) under a namespace of 1 to ` +
      'any depth, needs configs:read (env is not used) and answers {"valid": boolean, ' +
      '"results": [{"key", "valid", "problems": [{"path": JSON Pointer into the value, "" for the value itself, "message"}]}]}. ' +
      'Any other action is 404.',
  })
  @ApiParam({
    ...pathParam,
    description: 'namespace segments, the key, then the action (rollback or undelete); or namespace segments then validate',
    example: 'acme/chatbot/model/rollback',
  })
  @ApiQuery({ ...envQuery, required: false, description: `rollback and undelete (required): ${envQuery.description}; not used by validate` })
  @ApiBody({ schema: jsonSchemaOf(z.union([rollbackBody, undeleteBody, validateConfigsBody])), required: false })
  async act(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
    @Query('env') env: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Body() body: unknown,
  ): Promise<ConfigView | ValidationView> {
    const validated = validateNamespaceOf(path);
    if (validated !== undefined) {
      const { values } = validateBodyPipe.transform(body);
      const response = await this.configs.validateConfigs(
        {
          namespace: validated,
          values: Object.fromEntries(Object.entries(values).map(([key, value]) => [key, fromJson(ValueSchema, value as JsonValue)])),
        },
        { metadata: upstreamMetadata(request, principal) },
      );
      return validationViewOf(response);
    }
    const { namespace, key, action } = writeTargetOf(path);
    const environment = requiredEnv(env);
    const metadata = upstreamMetadata(request, principal);
    if (action === 'rollback') {
      const { version, expected_version: expectedVersion = versionFromIfMatch(ifMatch) } = rollbackBodyPipe.transform(body);
      const response = await this.configs.rollbackConfig(
        { namespace, key, environment, version: BigInt(version), expectedVersion: optionalBigInt(expectedVersion) },
        { metadata },
      );
      this.readCache?.forget(namespace, key);
      return configViewOf(response.entry);
    }
    const { expected_version: expectedVersion = versionFromIfMatch(ifMatch) } = undeleteBodyPipe.transform(body ?? {});
    const response = await this.configs.undeleteConfig(
      { namespace, key, environment, expectedVersion: optionalBigInt(expectedVersion) },
      { metadata },
    );
    this.readCache?.forget(namespace, key);
    return configViewOf(response.entry);
  }

  @Delete('*')
  @RequirePermission('configs:delete', { environment: environmentFromQuery })
  @ApiOperation({ summary: 'Delete a key in one environment (a tombstone version; history is kept)' })
  @ApiParam(pathParam)
  @ApiQuery(envQuery)
  async delete(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
    @Query('env') env: unknown,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<{ namespace: string; key: string; environment: string; version: number; revision: number; deleted: true }> {
    const { namespace, key } = splitPath(path);
    const environment = requiredEnv(env);
    const response = await this.configs.deleteConfig(
      { namespace, key, environment, expectedVersion: optionalBigInt(versionFromIfMatch(ifMatch)) },
      { metadata: upstreamMetadata(request, principal) },
    );
    this.readCache?.forget(namespace, key);
    return { namespace, key, environment, version: Number(response.version), revision: Number(response.revision), deleted: true };
  }
}

/** The changes of a watch whose first response is in hand; a config-manager too old to send `created` sends a change first. */
async function* changesAfterCreated(
  first: IteratorResult<WatchConfigsResponse>,
  rest: AsyncIterator<WatchConfigsResponse>,
): AsyncGenerator<WatchConfigsResponse> {
  try {
    if (first.done) return;
    if (!first.value.created) yield first.value;
    for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
  } finally {
    // Also when the reader stops early: the upstream call is cancelled, not left running.
    await rest.return?.();
  }
}

function isTrue(value: unknown): boolean {
  return value === 'true' || value === '1';
}
