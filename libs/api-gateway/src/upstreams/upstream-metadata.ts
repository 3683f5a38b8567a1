import { principalToMetadata, type Principal } from '@llmops/platform-auth';
import type { AuthenticatedRequest } from '../access/access-policy.decorator.js';

/** The caller's identity, address and request id, forwarded to a service as gRPC metadata. */
export function upstreamMetadata(request: AuthenticatedRequest, principal: Principal): Record<string, string> {
  const userAgent = request.headers['user-agent'];
  return principalToMetadata(principal, String(request.id), {
    ip: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : undefined,
  });
}
