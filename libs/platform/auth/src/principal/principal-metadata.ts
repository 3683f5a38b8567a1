import { z } from 'zod';
import { AuthException, AuthExceptionCode } from '../exceptions/auth.exception.js';
import type { Principal } from './principal.js';
import {
  firstIssue,
  permissionSchema,
  principalIdSchema,
  principalTypeSchema,
  roleBindingSchema,
  roleSchema,
} from './principal.schema.js';

/** gRPC metadata keys carrying the caller from the gateway to the services. */
export const PRINCIPAL_METADATA = {
  actorId: 'x-actor-id',
  actorType: 'x-actor-type',
  roles: 'x-actor-roles',
  email: 'x-actor-email',
  tenantId: 'x-actor-tenant-id',
  scopes: 'x-actor-scopes',
  bindings: 'x-actor-bindings',
  requestId: 'x-request-id',
  ip: 'x-actor-ip',
  userAgent: 'x-actor-user-agent',
} as const;

export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}

/**
 * Scopes and conditional bindings travel too, so a service re-checking a permission reaches the same decision as
 * the gateway instead of a wider one.
 */
export function principalToMetadata(principal: Principal, requestId: string, client: ClientInfo = {}): Record<string, string> {
  const metadata: Record<string, string> = {
    [PRINCIPAL_METADATA.actorId]: principal.id,
    [PRINCIPAL_METADATA.actorType]: principal.type,
    [PRINCIPAL_METADATA.roles]: principal.roles.join(','),
    [PRINCIPAL_METADATA.requestId]: requestId,
  };
  if (principal.email !== undefined) metadata[PRINCIPAL_METADATA.email] = principal.email;
  if (principal.tenantId !== undefined) metadata[PRINCIPAL_METADATA.tenantId] = principal.tenantId;
  if (principal.scopes !== undefined) metadata[PRINCIPAL_METADATA.scopes] = principal.scopes.join(',');
  if (principal.bindings?.length) metadata[PRINCIPAL_METADATA.bindings] = JSON.stringify(principal.bindings);
  if (client.ip !== undefined) metadata[PRINCIPAL_METADATA.ip] = client.ip;
  if (client.userAgent !== undefined) metadata[PRINCIPAL_METADATA.userAgent] = client.userAgent;
  return metadata;
}

const commaList = z.string().transform((value) => (value === '' ? [] : value.split(',')));

const metadataSchema = z.object({
  [PRINCIPAL_METADATA.actorId]: principalIdSchema,
  [PRINCIPAL_METADATA.actorType]: principalTypeSchema,
  [PRINCIPAL_METADATA.roles]: commaList.pipe(z.array(roleSchema)).default([]),
  [PRINCIPAL_METADATA.email]: z.string().max(320).optional(),
  [PRINCIPAL_METADATA.tenantId]: z.string().min(1).max(256).optional(),
  [PRINCIPAL_METADATA.scopes]: commaList.pipe(z.array(permissionSchema)).optional(),
  [PRINCIPAL_METADATA.bindings]: z
    .string()
    .transform((value, ctx) => {
      try {
        return JSON.parse(value) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not JSON' });
        return z.NEVER;
      }
    })
    .pipe(z.array(roleBindingSchema))
    .optional(),
});

/**
 * The principal the gateway forwarded, or undefined when the call carries none. Forwarded identity that does not
 * validate (an unknown role, say) is rejected rather than trimmed, since it means a version skew or a forgery.
 */
export function principalFromMetadata(metadata: Readonly<Record<string, unknown>>): Principal | undefined {
  const actorId = metadata[PRINCIPAL_METADATA.actorId];
  if (actorId === undefined || actorId === '') return undefined;
  const parsed = metadataSchema.safeParse(metadata);
  if (!parsed.success) {
    throw new AuthException(AuthExceptionCode.PrincipalInvalid, `forwarded principal is invalid: ${firstIssue(parsed.error)}`);
  }
  const md = parsed.data;
  const principal: Principal = {
    id: md[PRINCIPAL_METADATA.actorId],
    type: md[PRINCIPAL_METADATA.actorType],
    roles: [...new Set(md[PRINCIPAL_METADATA.roles])],
  };
  const email = md[PRINCIPAL_METADATA.email];
  const tenantId = md[PRINCIPAL_METADATA.tenantId];
  const scopes = md[PRINCIPAL_METADATA.scopes];
  const bindings = md[PRINCIPAL_METADATA.bindings];
  if (email !== undefined) principal.email = email;
  if (tenantId !== undefined) principal.tenantId = tenantId;
  if (scopes !== undefined) principal.scopes = scopes;
  if (bindings !== undefined) principal.bindings = bindings;
  return principal;
}
