import { SecretType } from '@llmops/contracts';
import type { Permission } from '@llmops/platform-auth';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MAX_VERSION, queryInteger } from '../access/query-integer.js';
import { versionField } from '../configs/config-requests.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';

/** `GET …/<path>/versions` describes a secret and every version's state. */
export const READ_ACTIONS = ['versions'] as const;
/** `POST …/<path>/<action>`: what a POST can do to an existing secret besides writing a new version. */
export const WRITE_ACTIONS = ['rotate', 'undelete', 'destroy'] as const;
/**
 * Fastify allows `*` only at the end of a route, so actions are the path's last segment, and these names cannot end a
 * secret path written through the REST API (the Vault API, whose actions come before the path, has no such limit).
 */
export const RESERVED_SEGMENTS: readonly string[] = [...READ_ACTIONS, ...WRITE_ACTIONS];

export type ReadAction = (typeof READ_ACTIONS)[number];
export type WriteAction = (typeof WRITE_ACTIONS)[number];

/** What a GET under /api/v1/secrets asks for: a folder listing (trailing slash), a secret, or its versions. */
export type SecretReadTarget = { kind: 'list'; folder: string } | { kind: 'secret'; path: string; action: ReadAction | undefined };

/** `acme/` or `` → the folder listing; `acme/db/versions` → describe acme/db; `acme/db` → read acme/db. */
export function readTargetOf(wildcard: string | undefined): SecretReadTarget {
  const path = wildcard ?? '';
  if (path === '' || path.endsWith('/')) return { kind: 'list', folder: path.replace(/\/+$/, '') };
  const { path: secretPath, action } = withoutAction(path, READ_ACTIONS);
  return { kind: 'secret', path: secretPath, action };
}

/** `acme/db/rotate` → rotate acme/db; `acme/db` → write a new version of acme/db, refused if it ends in a reserved name. */
export function writeTargetOf(wildcard: string | undefined): { path: string; action: WriteAction | undefined } {
  const target = withoutAction(wildcard ?? '', WRITE_ACTIONS);
  const last = target.path.split('/').at(-1)!;
  if (target.action === undefined && RESERVED_SEGMENTS.includes(last)) {
    throw new GatewayException(
      GatewayErrorCode.ValidationError,
      `a secret path cannot end in "${last}": ${RESERVED_SEGMENTS.join(', ')} are reserved for actions (write it through /v1/secret/data/ instead)`,
    );
  }
  return target;
}

/** The permission a POST needs at the gateway; secret-service checks it again. */
export function writePermissionOf(request: FastifyRequest): Permission {
  const wildcard = (request.params as Record<string, string | undefined>)['*'];
  return wildcard?.split('/').at(-1) === 'rotate' ? 'secrets:rotate' : 'secrets:write';
}

function withoutAction<A extends string>(path: string, actions: readonly A[]): { path: string; action: A | undefined } {
  const segments = path.split('/');
  const action = actions.find((candidate) => candidate === segments.at(-1));
  if (action === undefined) return { path, action };
  if (segments.length < 2) {
    throw new GatewayException(GatewayErrorCode.ValidationError, `path must be <secret path>/${action}, e.g. acme/db/${action}`);
  }
  return { path: segments.slice(0, -1).join('/'), action };
}

/** `true`/`1` or `false`/`0`; absent is false. */
function queryFlag(name: string) {
  return z
    .enum(['true', 'false', '1', '0'], { error: `${name} must be true or false` })
    .optional()
    .transform((value) => value === 'true' || value === '1');
}

const readQuery = z.object({
  reveal: queryFlag('reveal'),
  version: queryInteger(1, MAX_VERSION, `version must be an integer from 1 to ${MAX_VERSION}`).optional(),
});

export type SecretReadQuery = z.output<typeof readQuery>;

/** Other query parameters (env, and any the client adds) are left alone. */
export function parseReadQuery(query: Record<string, unknown> | undefined): SecretReadQuery {
  return parseQuery(readQuery, query);
}

const VERSION_LIST = /^\d{1,15}(,\d{1,15})*$/;

const deleteQuery = z.object({
  purge: queryFlag('purge'),
  versions: z
    .string()
    .regex(VERSION_LIST, 'versions must be a comma-separated list of version numbers, e.g. versions=1,2')
    .transform((list) => list.split(',').map(Number))
    .refine((versions) => versions.every((version) => version >= 1 && version <= MAX_VERSION), `versions must be integers from 1 to ${MAX_VERSION}`)
    .optional(),
});

export type SecretDeleteQuery = z.output<typeof deleteQuery>;

/** `purge=true` erases the secret with all versions; otherwise `versions` (the current one when absent) are soft-deleted. */
export function parseDeleteQuery(query: Record<string, unknown> | undefined): SecretDeleteQuery {
  const parsed = parseQuery(deleteQuery, query);
  if (parsed.purge && parsed.versions) {
    throw new GatewayException(GatewayErrorCode.ValidationError, 'purge=true erases every version; do not name versions with it');
  }
  return parsed;
}

function parseQuery<T>(schema: z.ZodType<T>, query: Record<string, unknown> | undefined): T {
  const parsed = schema.safeParse(query ?? {});
  if (parsed.success) return parsed.data;
  throw new GatewayException(GatewayErrorCode.ValidationError, parsed.error.issues.map((issue) => issue.message).join('; '));
}

export const SECRET_TYPE_NAMES = [
  'generic',
  'api_key',
  'database_credentials',
  'tls_certificate',
  'ssh_key_pair',
  'oauth2_token',
  'jwt_signing_key',
  'cloud_credentials',
] as const;

export type SecretTypeName = (typeof SECRET_TYPE_NAMES)[number];

/** No type keeps an existing secret's type; a new secret needs one (secret-service says so). */
export function secretTypeOf(name: SecretTypeName | undefined): SecretType {
  return name === undefined ? SecretType.UNSPECIFIED : SecretType[name.toUpperCase() as Uppercase<SecretTypeName>];
}

export function secretTypeNameOf(type: SecretType): string {
  return type === SecretType.UNSPECIFIED ? 'unspecified' : SecretType[type].toLowerCase();
}

const seconds = z
  .number({ error: 'must be a number of seconds' })
  .int({ error: 'must be a whole number of seconds' })
  .min(0, { error: 'must be 0 or more seconds' });

/**
 * A structured type's value (database credentials, a TLS certificate, …) may be sent as a JSON object; it is stored as
 * its JSON text, which is what reveal returns.
 */
export const setSecretBody = z.strictObject({
  type: z.enum(SECRET_TYPE_NAMES, { error: `must be one of ${SECRET_TYPE_NAMES.join(', ')}` }).optional(),
  value: z.union([z.string().min(1, { error: 'must not be empty' }), z.record(z.string(), z.json())], {
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string, or a JSON object for a structured type'),
  }),
  labels: z.record(z.string(), z.json(), { error: 'must be an object' }).optional(),
  expected_version: versionField(0).optional(),
  max_versions: z.number({ error: 'must be an integer' }).int({ error: 'must be an integer' }).min(0).max(1000, { error: 'must be 0 (keep all) to 1000' }).optional(),
  cas_required: z.boolean({ error: 'must be true or false' }).optional(),
  rotation_period_seconds: seconds.optional(),
  grace_period_seconds: seconds.optional(),
});

export type SetSecretBody = z.output<typeof setSecretBody>;

export function secretValueOf(value: SetSecretBody['value']): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Undelete and destroy name their versions: destroying is for good, so nothing is implied. */
export const versionsBody = z.strictObject({
  versions: z
    .array(versionField(1), { error: (issue) => (issue.input === undefined ? 'is required' : 'must be an array of version numbers') })
    .min(1, { error: 'must name at least one version' })
    .max(1000, { error: 'must name at most 1000 versions' }),
});

export type VersionsBody = z.output<typeof versionsBody>;

export const minDecryptionVersionBody = z.strictObject({ min_decryption_version: versionField(1) });
