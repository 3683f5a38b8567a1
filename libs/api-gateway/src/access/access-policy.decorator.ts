import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Permission, Principal } from '@llmops/platform-auth';
import type { FastifyRequest } from 'fastify';

export const ACCESS_POLICY = 'llmops:access-policy';

/** What a route demands. Routes without a policy are refused: access is denied by default. */
export type AccessPolicy =
  | { kind: 'public' }
  | { kind: 'operations' }
  | { kind: 'authenticated' }
  | {
      kind: 'permission';
      /** Fixed, or chosen per request where one wildcard route carries actions of different weight. */
      permission: Permission | ((request: FastifyRequest) => Permission);
      environment?: (request: FastifyRequest) => string | undefined;
      /** The tenant the request acts in, for tenant-scoped permissions (called once the principal is known). */
      tenant?: (request: AuthenticatedRequest) => string | undefined;
    };

/** Reachable without credentials (login, health); still rate-limited per client address. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(ACCESS_POLICY, { kind: 'public' } satisfies AccessPolicy);

/**
 * Probes and scrapes (health, metrics): no credentials and no rate limit, since a throttled readiness probe would
 * take the pod out of service. They reveal no data.
 */
export const Operations = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ACCESS_POLICY, { kind: 'operations' } satisfies AccessPolicy);

/** Any authenticated principal; the handler decides the rest (e.g. API keys list only their owner's keys). */
export const Authenticated = (): MethodDecorator =>
  SetMetadata(ACCESS_POLICY, { kind: 'authenticated' } satisfies AccessPolicy);

/** Needs `permission`, optionally in the environment the request names (e.g. `?env=production`) and in a tenant. */
export const RequirePermission = (
  permission: Permission | ((request: FastifyRequest) => Permission),
  options: {
    environment?: (request: FastifyRequest) => string | undefined;
    tenant?: (request: AuthenticatedRequest) => string | undefined;
  } = {},
): MethodDecorator =>
  SetMetadata(ACCESS_POLICY, {
    kind: 'permission',
    permission,
    environment: options.environment,
    tenant: options.tenant,
  } satisfies AccessPolicy);

export interface AuthenticatedRequest extends FastifyRequest {
  principal?: Principal;
}

export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without authentication');
  return principal;
});

export const environmentFromQuery = (request: FastifyRequest): string | undefined => {
  const env = (request.query as Record<string, unknown> | undefined)?.env;
  return typeof env === 'string' ? env : undefined;
};

/**
 * The caller's own tenant: the route checks the permission there, and the handler checks it again against the tenant
 * of what it touches (identity management, where a tenant admin acts only inside its tenant).
 */
export const tenantOfCaller = (request: AuthenticatedRequest): string | undefined => request.principal?.tenantId;
