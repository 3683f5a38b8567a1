import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { authorize, type Principal, type RateLimiter } from '@llmops/platform-auth';
import { SecurityEventType } from '@llmops/contracts';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { AuthService } from '../auth/auth.service.js';
import { originOf, SecurityEvents } from '../auth/security-events.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { ACCESS_POLICY, type AccessPolicy, type AuthenticatedRequest } from './access-policy.decorator.js';

export const RATE_LIMITERS = Symbol('RATE_LIMITERS');
export interface RateLimiters {
  principal: RateLimiter;
  anonymous: RateLimiter;
}

/**
 * The one gate every route passes: authenticate (JWT or API key), rate-limit per principal (per address when
 * anonymous), then authorize against the route's declared policy. A route that declares none is refused.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(ApiKeysService) private readonly apiKeys: ApiKeysService,
    @Inject(RATE_LIMITERS) private readonly limiters: RateLimiters,
    @Inject(SecurityEvents) private readonly securityEvents: SecurityEvents,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const policy = this.reflector.getAllAndOverride<AccessPolicy | undefined>(ACCESS_POLICY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!policy) throw new GatewayException(GatewayErrorCode.Forbidden, 'this route has no access policy');
    if (policy.kind === 'operations') return true;
    if (policy.kind === 'public') {
      await this.rateLimit(this.limiters.anonymous, `ip:${request.ip}`);
      return true;
    }
    const principal = await this.authenticate(request);
    request.principal = principal;
    await this.rateLimit(this.limiters.principal, `principal:${principal.id}`);
    if (policy.kind === 'permission') {
      const permission = typeof policy.permission === 'function' ? policy.permission(request) : policy.permission;
      const environment = policy.environment?.(request);
      const tenantId = policy.tenant?.(request);
      const decision = authorize(principal, permission, { environment, tenantId, ip: request.ip });
      if (!decision.allowed) {
        await this.securityEvents.record(
          SecurityEventType.AccessDenied,
          `routes/${request.method} ${request.routeOptions.url ?? request.url}`,
          { permission, environment: environment ?? null, ...(tenantId !== undefined ? { tenant_id: tenantId } : {}), reason: decision.reason },
          originOf(request),
        );
        throw new GatewayException(GatewayErrorCode.Forbidden, decision.reason);
      }
    }
    return true;
  }

  private async authenticate(request: AuthenticatedRequest): Promise<Principal> {
    const apiKeyHeader = request.headers['x-api-key'];
    // Vault clients send their token as X-Vault-Token; here that token is one of our API keys (the /v1 Vault API).
    const vaultToken = request.headers['x-vault-token'];
    const authorization = request.headers.authorization;
    if (typeof apiKeyHeader === 'string' && apiKeyHeader !== '') return this.apiKeys.authenticate(apiKeyHeader);
    if (typeof vaultToken === 'string' && vaultToken !== '') return this.apiKeys.authenticate(vaultToken);
    if (typeof authorization !== 'string' || authorization === '') {
      throw new GatewayException(GatewayErrorCode.AuthFailed, 'missing credentials: send Authorization: Bearer <token>, X-API-Key or X-Vault-Token', {
        'www-authenticate': 'Bearer',
      });
    }
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) {
      throw new GatewayException(GatewayErrorCode.AuthFailed, 'Authorization header must be "Bearer <token>"', {
        'www-authenticate': 'Bearer',
      });
    }
    const credential = match[1]!;
    return this.apiKeys.looksLikeApiKey(credential)
      ? this.apiKeys.authenticate(credential)
      : this.auth.verifyAccessToken(credential);
  }

  private async rateLimit(limiter: RateLimiter, key: string): Promise<void> {
    const result = await limiter.consume(key);
    if (!result.allowed) {
      throw new GatewayException(
        GatewayErrorCode.RateLimit,
        `rate limit of ${result.limit} requests per window exceeded; retry in ${result.retryAfterSeconds} s`,
        { 'retry-after': String(result.retryAfterSeconds) },
      );
    }
  }
}
