import { z } from 'zod';
import type { Permission } from '@llmops/platform-auth';
import type { FastifyRequest } from 'fastify';
import { environmentFromQuery } from '../access/access-policy.decorator.js';
import { queryInteger } from '../access/query-integer.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';

/** `GET …/<namespace>/<key>/history` lists a key's versions; any other GET path reads a key. */
export const READ_ACTIONS = ['history'] as const;
/** `POST …/<namespace>/<key>/<action>`: the only things a POST can do to a key. */
export const WRITE_ACTIONS = ['rollback', 'undelete'] as const;

export type WriteAction = (typeof WRITE_ACTIONS)[number];
/** `POST …/<namespace>/validate` acts on a namespace, not a key. */
export const VALIDATE_ACTION = 'validate';

/** The most values one validate request may check. */
export const MAX_VALIDATE_VALUES = 500;

/** `…/<namespace>/validate` → the namespace, or undefined for any other path. */
export function validateNamespaceOf(path: string | undefined): string | undefined {
  const segments = segmentsOf(path);
  return segments.length >= 2 && segments.at(-1) === VALIDATE_ACTION ? segments.slice(0, -1).join('/') : undefined;
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
  if (!match) throw new GatewayException(GatewayErrorCode.ValidationError, 'If-Match must be a version number, e.g. "3"');
  return Number(match[1]);
}

/** Other query parameters (env, and any the client adds) are left alone, as the key read does. */
const historyQuery = z.object({
  before_version: queryInteger(0, Number.MAX_SAFE_INTEGER, 'must be a non-negative integer').optional(),
  limit: queryInteger(1, MAX_HISTORY_LIMIT, `must be an integer from 1 to ${MAX_HISTORY_LIMIT}`).optional(),
});

export type HistoryQuery = z.output<typeof historyQuery>;

/** `before_version` absent starts at the newest version; `limit` absent is config-manager's default page. */
export function parseHistoryQuery(query: Record<string, unknown> | undefined): HistoryQuery {
  const parsed = historyQuery.safeParse(query ?? {});
  if (parsed.success) return parsed.data;
  throw new GatewayException(GatewayErrorCode.ValidationError, parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
}

export const versionField = (min: 0 | 1) =>
  z
    .number({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be an integer') })
    .min(min, { error: min === 0 ? 'must be a non-negative integer' : 'must be a positive integer', abort: true })
    // int() also bounds the value to the safe integers, so it stays exact on its way to an int64.
    .int({ error: (issue) => (issue.code === 'too_big' ? 'is too large' : 'must be an integer') });

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
