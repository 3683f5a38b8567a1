import type { SecurityEventType } from '@llmops/contracts';
import type { Principal } from '@llmops/platform-auth';
import type { Outbox } from '@llmops/platform-messaging';
import type { FastifyRequest } from 'fastify';
import type { EntityManager } from 'typeorm';

/** Who and where a security event is about, as the request showed it. */
export interface SecurityEventOrigin {
  principal?: Principal;
  ip?: string;
  userAgent?: string;
  requestId?: string;
}

/**
 * Records authentication and authorization events through the gateway's outbox, so they reach the audit log with
 * the same delivery guarantees as every other event; pass the transaction's manager when the event belongs to one.
 */
export class SecurityEvents {
  constructor(
    private readonly outbox: Outbox,
    private readonly defaultManager: EntityManager,
  ) {}

  async record(
    type: SecurityEventType,
    subject: string,
    payload: Record<string, string | number | boolean | null>,
    origin: SecurityEventOrigin,
    manager: EntityManager = this.defaultManager,
  ): Promise<void> {
    await this.outbox.add(manager, {
      type,
      subject,
      payload,
      actor: {
        id: origin.principal?.id ?? '',
        type: origin.principal?.type ?? 'anonymous',
        ipAddress: origin.ip,
        userAgent: origin.userAgent,
      },
      correlationId: origin.requestId,
    });
  }
}

/** The origin of a request: its principal when authenticated, its address, user agent and request id. */
export function originOf(request: FastifyRequest & { principal?: Principal }): SecurityEventOrigin {
  const userAgent = request.headers['user-agent'];
  return {
    principal: request.principal,
    ip: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : undefined,
    requestId: String(request.id),
  };
}
