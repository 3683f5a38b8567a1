import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MAX_VERSION, queryInteger } from '../access/query-integer.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';

/** The only KV v2 mount the gateway serves, at Vault's default name. */
export const VAULT_MOUNT = 'secret';

export interface VaultSecretRef {
  environment: string;
  path: string;
}

/**
 * `production/acme/db` → environment production, path acme/db: Vault paths have no environment, so the first segment
 * names it. Segment rules are secret-service's to enforce.
 */
export function vaultSecretRefOf(wildcard: string | undefined): VaultSecretRef {
  const { environment, rest } = split(wildcard);
  if (rest === '') {
    throw new GatewayException(
      GatewayErrorCode.ValidationError,
      `path must be <environment>/<secret path>, e.g. ${VAULT_MOUNT}/data/production/acme/db: the first segment is the environment`,
    );
  }
  return { environment, path: rest };
}

/** `production/acme/` → folder acme in production; `production` alone lists the environment's top level. */
export function vaultFolderOf(wildcard: string | undefined): { environment: string; folder: string } {
  const { environment, rest } = split(wildcard);
  return { environment, folder: rest.replace(/\/+$/, '') };
}

/** The environment a /v1/secret/* route acts in, for the access check before the handler runs. */
export function vaultEnvironmentOf(request: FastifyRequest): string | undefined {
  const wildcard = (request.params as Record<string, string | undefined>)['*'];
  const environment = wildcard?.split('/')[0];
  return environment === '' ? undefined : environment;
}

function split(wildcard: string | undefined): { environment: string; rest: string } {
  const path = wildcard ?? '';
  const slash = path.indexOf('/');
  const environment = slash < 0 ? path : path.slice(0, slash);
  if (environment === '') {
    throw new GatewayException(
      GatewayErrorCode.ValidationError,
      `the path must start with an environment, e.g. ${VAULT_MOUNT}/metadata/production/acme`,
    );
  }
  return { environment, rest: slash < 0 ? '' : path.slice(slash + 1) };
}

/** Vault's KV v2 write: the data map, and `options.cas` for check-and-set. Other fields are ignored, as Vault does. */
export const vaultWriteBody = z.object({
  data: z.record(z.string(), z.json(), {
    error: (issue) => (issue.input === undefined ? 'no data provided' : 'must be an object of keys and values'),
  }),
  options: z
    .object({
      cas: z.number({ error: 'must be a version number' }).int({ error: 'must be a version number' }).min(0, { error: 'must be 0 or more' }).optional(),
    })
    .optional(),
});

export type VaultWriteBody = z.output<typeof vaultWriteBody>;

/** Vault's delete, undelete and destroy take the versions to act on. */
export const vaultVersionsBody = z.object({
  versions: z
    .array(z.number().int().min(1, { error: 'must be positive' }).max(MAX_VERSION, { error: `must be at most ${MAX_VERSION}` }), {
      error: 'must be an array of version numbers',
    })
    .min(1, { error: 'no versions provided' }),
});

export type VaultVersionsBody = z.output<typeof vaultVersionsBody>;

const readQuery = z.object({ version: queryInteger(0, MAX_VERSION, `version must be an integer from 0 to ${MAX_VERSION}`).optional() });

/** `?version=` (0 or absent: the current version), as Vault reads it. */
export function vaultReadVersionOf(query: Record<string, unknown> | undefined): number {
  const parsed = readQuery.safeParse(query ?? {});
  if (!parsed.success) throw new GatewayException(GatewayErrorCode.ValidationError, parsed.error.issues[0]!.message);
  return parsed.data.version ?? 0;
}

/**
 * Vault's LIST verb is not an HTTP method Node.js accepts, so listing is `GET …?list=true`, what Vault clients send
 * when told not to use custom verbs (node-vault: `noCustomHTTPVerbs: true`).
 */
export function isListRequest(query: Record<string, unknown> | undefined): boolean {
  const list = query?.list;
  return list === 'true' || list === '1';
}
