import { authorize, type Permission, type Principal } from '@llmops/platform-auth';
import { ConfigException, ConfigExceptionCode } from './exceptions/config.exception.js';

/** Who is calling, as the gateway authenticated them. */
export interface ConfigActor {
  principal: Principal;
  requestId: string;
  ip?: string;
  userAgent?: string;
}

/**
 * Throws PERMISSION_DENIED unless `actor` holds `permission` in `environment` (every environment when omitted),
 * with the request's address, so ABAC conditions such as an IP allowlist apply to every config-manager operation.
 */
export function assertAllowed(actor: ConfigActor, permission: Permission, environment?: string): void {
  const decision = authorize(actor.principal, permission, { environment, ip: actor.ip });
  if (!decision.allowed) throw new ConfigException(ConfigExceptionCode.PermissionDenied, decision.reason);
}

/** Whether `actor` may read configs in `environment`: what an error message may name. */
export function canRead(actor: ConfigActor, environment: string): boolean {
  return authorize(actor.principal, 'configs:read', { environment, ip: actor.ip }).allowed;
}
