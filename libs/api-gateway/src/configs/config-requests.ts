import { fromJson, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { Classification, type BulkApplyRequestSchema, type BulkOperationSchema } from '@llmops/contracts';
import { z } from 'zod';
import type { Permission } from '@llmops/platform-auth';
import type { FastifyRequest } from 'fastify';
import { environmentFromQuery } from '../access/access-policy.decorator.js';
import { MAX_VERSION, queryInteger } from '../access/query-integer.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';

/** `GET …/<namespace>/<key>/history` lists a key's versions; any other GET path reads a key. */
export const READ_ACTIONS = ['history'] as const;
/** `POST …/<namespace>/<key>/<action>`: the only things a POST can do to a key. */
export const WRITE_ACTIONS = ['rollback', 'undelete'] as const;

export type WriteAction = (typeof WRITE_ACTIONS)[number];
/** `POST …/<namespace>/validate` acts on a namespace, not a key. */
export const VALIDATE_ACTION = 'validate';
/** `GET …/<namespace>/watch` follows the changes under a namespace as Server-Sent Events. */
export const WATCH_ACTION = 'watch';

/** The most values one validate request may check. */
export const MAX_VALIDATE_VALUES = 500;

/** `…/<namespace>/validate` → the namespace, or undefined for any other path. */
export function validateNamespaceOf(path: string | undefined): string | undefined {
  return namespaceBefore(VALIDATE_ACTION, path);
}

/** `…/<namespace>/watch` → the namespace, or undefined for any other path. */
export function watchNamespaceOf(path: string | undefined): string | undefined {
  return namespaceBefore(WATCH_ACTION, path);
}

/**
 * The namespace (one or more segments) before a trailing namespace action. config-manager reserves the action names
 * as key names, so such a path is never a key.
 */
function namespaceBefore(action: string, path: string | undefined): string | undefined {
  const segments = segmentsOf(path);
  return segments.length >= 2 && segments.at(-1) === action ? segments.slice(0, -1).join('/') : undefined;
}

/**
 * The environment a GET under /api/v1/configs needs configs:read in: the `env` a read names; none for a watch, to
 * which config-manager sends only the changes in environments the caller may read.
 */
export function readEnvironmentOf(request: FastifyRequest): string | undefined {
  return watchNamespaceOf(wildcardOf(request)) === undefined ? environmentFromQuery(request) : undefined;
}

/**
 * What a POST under /api/v1/configs needs: validate writes nothing, so configs:read, and in no particular
 * environment (schemas govern all of them); rollback and undelete write in the `env` they name.
 */
export const postPolicy = {
  permission: (request: FastifyRequest): Permission => (validateNamespaceOf(wildcardOf(request)) === undefined ? 'configs:write' : 'configs:read'),
  environment: (request: FastifyRequest): string | undefined =>
    validateNamespaceOf(wildcardOf(request)) === undefined ? environmentFromQuery(request) : undefined,
};

function wildcardOf(request: FastifyRequest): string | undefined {
  return (request.params as Record<string, string | undefined> | undefined)?.['*'];
}

export interface ConfigTarget<A extends string> {
  namespace: string;
  key: string;
  action: A | undefined;
}

/** The largest page config-manager serves; it reads an absent limit as 50. */
export const MAX_HISTORY_LIMIT = 500;

/**
 * `acme/chatbot/model/history` → namespace `acme/chatbot`, key `model`, action `history`. Fastify allows `*` only at
 * the end of a route, so the action is the last segment; config-manager reserves the action names, so no key or
 * namespace segment can be mistaken for one. Segment rules are config-manager's to enforce.
 */
export function configTargetOf<A extends string>(path: string | undefined, actions: readonly A[]): ConfigTarget<A> {
  const { segments, action } = withoutAction(path, actions);
  return { ...namespaceAndKey(segments, action), action };
}

/** A POST names its action; anything else is a route that does not exist. */
export function writeTargetOf(path: string | undefined): ConfigTarget<WriteAction> & { action: WriteAction } {
  const { segments, action } = withoutAction(path, WRITE_ACTIONS);
  if (action === undefined) {
    throw new GatewayException(
      GatewayErrorCode.NotFound,
      `POST /api/v1/configs/<namespace>/<key>/<action> supports the actions ${WRITE_ACTIONS.join(', ')}, and <namespace>/${VALIDATE_ACTION}`,
    );
  }
  return { ...namespaceAndKey(segments, action), action };
}

/** The path as segments joined again, without a trailing slash: what a namespace listing is asked for. */
export function wholePath(path: string | undefined): string {
  return segmentsOf(path).join('/');
}

/** `acme/chatbot/model` → namespace `acme/chatbot`, key `model`. */
export function splitPath(path: string | undefined): { namespace: string; key: string } {
  return namespaceAndKey(segmentsOf(path), undefined);
}

export function requiredEnv(env: unknown): string {
  if (typeof env !== 'string' || env === '') {
    throw new GatewayException(GatewayErrorCode.ValidationError, 'query parameter env is required, e.g. ?env=development');
  }
  return env;
}

export function versionFromIfMatch(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined) return undefined;
  const match = /^(?:W\/)?"?(\d{1,15})"?$/.exec(ifMatch.trim());
  if (!match || Number(match[1]) > MAX_VERSION) {
    throw new GatewayException(GatewayErrorCode.ValidationError, `If-Match must be a version number up to ${MAX_VERSION}, e.g. "3"`);
  }
  return Number(match[1]);
}

/** Other query parameters (env, and any the client adds) are left alone, as the key read does. */
const historyQuery = z.object({
  before_version: queryInteger(0, MAX_VERSION, `must be an integer from 0 to ${MAX_VERSION}`).optional(),
  limit: queryInteger(1, MAX_HISTORY_LIMIT, `must be an integer from 1 to ${MAX_HISTORY_LIMIT}`).optional(),
});

export type HistoryQuery = z.output<typeof historyQuery>;

/** `before_version` absent starts at the newest version; `limit` absent is config-manager's default page. */
export function parseHistoryQuery(query: Record<string, unknown> | undefined): HistoryQuery {
  return parseQuery(historyQuery, query);
}

const watchQuery = z.object({ start_revision: queryInteger(0, Number.MAX_SAFE_INTEGER, 'must be a non-negative integer').optional() });
/** The id of an event a watch sent: a revision. At most 15 digits, so the one after it is still exact. */
const lastEventId = queryInteger(0, Number.MAX_SAFE_INTEGER, 'Last-Event-ID: must be the id of an event, a revision (a non-negative integer)');

/**
 * The first revision a watch delivers, 0 for the next change. A reconnecting SSE client sends the id of the last event
 * it saw as Last-Event-ID, which wins over start_revision (still in the URL it reconnects to): the watch resumes after
 * it. An empty Last-Event-ID means the client has seen no event, as in the SSE spec.
 */
export function watchStartOf(query: Record<string, unknown> | undefined, lastEventIdHeader: string | undefined): number {
  const { start_revision: startRevision } = parseQuery(watchQuery, query);
  if (lastEventIdHeader === undefined || lastEventIdHeader === '') return startRevision ?? 0;
  const parsed = lastEventId.safeParse(lastEventIdHeader);
  if (!parsed.success) throw new GatewayException(GatewayErrorCode.ValidationError, parsed.error.issues[0]!.message);
  return parsed.data + 1;
}

/** Names every bad parameter; parameters the schema does not know are left alone. */
function parseQuery<T>(schema: z.ZodType<T>, query: Record<string, unknown> | undefined): T {
  const parsed = schema.safeParse(query ?? {});
  if (parsed.success) return parsed.data;
  throw new GatewayException(GatewayErrorCode.ValidationError, parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
}

export const versionField = (min: 0 | 1) =>
  z
    .number({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be an integer') })
    .min(min, { error: min === 0 ? 'must be a non-negative integer' : 'must be a positive integer', abort: true })
    .max(MAX_VERSION, { error: `must be at most ${MAX_VERSION}`, abort: true })
    .int({ error: 'must be an integer' });

/** `expected_version` makes it a check-and-set, like PUT; If-Match says the same when the body does not. */
export const rollbackBody = z.strictObject({ version: versionField(1), expected_version: versionField(0).optional() });
export const undeleteBody = z.strictObject({ expected_version: versionField(0).optional() });

/** Values by key, each any JSON value; config-manager checks the keys and the values against the schemas. */
export const validateConfigsBody = z.strictObject({
  values: z
    .record(z.string(), z.json(), { error: (issue) => (issue.input === undefined ? 'is required' : 'must be an object of values by key') })
    .refine((values) => Object.keys(values).length >= 1 && Object.keys(values).length <= MAX_VALIDATE_VALUES, {
      error: `must hold 1 to ${MAX_VALIDATE_VALUES} keys`,
    }),
});

export const CLASSIFICATIONS = ['public', 'internal', 'confidential'] as const;

/** No classification asks config-manager to keep the key's current one (or its default for a new key). */
export function classificationOf(name: (typeof CLASSIFICATIONS)[number] | undefined): Classification {
  switch (name) {
    case 'public':
      return Classification.PUBLIC;
    case 'internal':
      return Classification.INTERNAL;
    case 'confidential':
      return Classification.CONFIDENTIAL;
    case undefined:
      return Classification.UNSPECIFIED;
  }
}

export function optionalBigInt(value: number | undefined): bigint | undefined {
  return value === undefined ? undefined : BigInt(value);
}

/** The most operations one bulk request may hold, as config-manager allows. */
export const MAX_BULK_OPERATIONS = 1000;

const requiredString = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
  .min(1, { error: 'must not be empty', abort: true });

/** Checked here, not left to splitPath, so that a bad path is named with its operation's index. */
const keyPath = requiredString.refine((path) => segmentsOf(path).length >= 2, { error: 'must be <namespace>/<key>, e.g. acme/chatbot/model' });

const bulkSetOperation = z.strictObject({
  op: z.literal('set'),
  path: keyPath,
  env: requiredString,
  value: z.json(),
  classification: z.enum(CLASSIFICATIONS, { error: `must be one of ${CLASSIFICATIONS.join(', ')}` }).optional(),
  expected_version: versionField(0).optional(),
});

const bulkDeleteOperation = z.strictObject({
  op: z.literal('delete'),
  path: keyPath,
  env: requiredString,
  expected_version: versionField(0).optional(),
});

const bulkOperationKinds = [bulkSetOperation, bulkDeleteOperation] as const;

/**
 * ZodBodyPipe names unknown fields without their place, enough for a flat body but not for one operation among a
 * thousand, and z.json() answers a missing value with a bare "Invalid input": both are named here, under the
 * operation's index. Either stops that operation's other checks.
 */
function fieldsInPlace(input: unknown, context: z.RefinementCtx): unknown {
  if (!isObject(input)) return input;
  const kind = bulkOperationKinds.find((candidate) => candidate.shape.op.value === (input as { op?: unknown }).op);
  if (kind === undefined) return input;
  const unknown = Object.keys(input).filter((field) => !Object.hasOwn(kind.shape, field));
  if (unknown.length > 0) context.addIssue({ code: 'custom', message: `unknown field(s): ${unknown.join(', ')}`, input });
  if (kind === bulkSetOperation && !('value' in input)) context.addIssue({ code: 'custom', path: ['value'], message: 'is required', input });
  return input;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const bulkOperation = z.preprocess(
  fieldsInPlace,
  z.discriminatedUnion('op', bulkOperationKinds, {
    error: (issue) => (isObject(issue.input) ? 'must be set or delete' : 'must be an object'),
  }),
);

/** Applied in order, all or none; `path` is `<namespace>/<key>` as in the single-key routes. */
export const bulkApplyBody = z.strictObject({
  operations: z
    .array(bulkOperation, { error: (issue) => (issue.input === undefined ? 'is required' : 'must be an array of operations') })
    .min(1, { error: `must hold 1 to ${MAX_BULK_OPERATIONS} operations` })
    .max(MAX_BULK_OPERATIONS, { error: `must hold 1 to ${MAX_BULK_OPERATIONS} operations` }),
});

export type BulkApplyBody = z.output<typeof bulkApplyBody>;

/** In the body's order, so the index config-manager names in an error is the client's. */
export function bulkApplyRequestOf(body: BulkApplyBody): MessageInitShape<typeof BulkApplyRequestSchema> {
  return {
    operations: body.operations.map((operation): MessageInitShape<typeof BulkOperationSchema> => {
      const { namespace, key } = splitPath(operation.path);
      const target = { namespace, key, environment: operation.env, expectedVersion: optionalBigInt(operation.expected_version) };
      if (operation.op === 'delete') return { operation: { case: 'delete', value: target } };
      const value = fromJson(ValueSchema, operation.value as JsonValue);
      return { operation: { case: 'set', value: { ...target, value, classification: classificationOf(operation.classification) } } };
    }),
  };
}

function withoutAction<A extends string>(path: string | undefined, actions: readonly A[]): { segments: string[]; action: A | undefined } {
  const segments = segmentsOf(path);
  const last = segments.at(-1);
  const action = actions.find((candidate) => candidate === last);
  if (action !== undefined) segments.pop();
  return { segments, action };
}

function segmentsOf(path: string | undefined): string[] {
  const segments = (path ?? '').split('/');
  if (segments.at(-1) === '') segments.pop();
  return segments;
}

function namespaceAndKey(segments: readonly string[], action: string | undefined): { namespace: string; key: string } {
  if (segments.length < 2) {
    const shape = action === undefined ? '<namespace>/<key>, e.g. acme/chatbot/model' : `<namespace>/<key>/${action}, e.g. acme/chatbot/model/${action}`;
    throw new GatewayException(GatewayErrorCode.ValidationError, `path must be ${shape}`);
  }
  return { namespace: segments.slice(0, -1).join('/'), key: segments.at(-1)! };
}
