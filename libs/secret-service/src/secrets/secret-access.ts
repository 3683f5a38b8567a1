import { SecretEventType } from '@llmops/contracts';
import { authorize, type Permission, type Principal } from '@llmops/platform-auth';
import type { Outbox } from '@llmops/platform-messaging';
import type { Logger } from '@llmops/platform-observability';
import type { Database } from '@llmops/platform-persistence';
import { SecretException, SecretExceptionCode } from './exceptions/secret.exception.js';
import { subjectOf, type SecretRef } from './secret-path.js';

/** Who is calling, as the gateway authenticated them. */
export interface SecretActor {
  principal: Principal;
  requestId: string;
  ip?: string;
  userAgent?: string;
}

export function eventActorOf(actor: SecretActor): { id: string; type: string; ipAddress?: string; userAgent?: string } {
  return { id: actor.principal.id, type: actor.principal.type, ipAddress: actor.ip, userAgent: actor.userAgent };
}

/**
 * Decides access to secrets in an environment and records every refusal in the audit log before refusing: a denied
 * attempt on a secret is itself a security event (seed 001 §9.3).
 */
export class SecretAccess {
  constructor(
    private readonly database: Database,
    private readonly outbox: Outbox,
    private readonly logger: Logger,
  ) {}

  async assertAllowed(actor: SecretActor, permission: Permission, ref: SecretRef): Promise<void> {
    const decision = authorize(actor.principal, permission, { environment: ref.environment, ip: actor.ip });
    if (decision.allowed) return;
    try {
      await this.database.dataSource.transaction((manager) =>
        this.outbox.add(manager, {
          type: SecretEventType.AccessDenied,
          subject: subjectOf(ref),
          payload: { path: ref.path, environment: ref.environment, permission, reason: decision.reason },
          actor: eventActorOf(actor),
          correlationId: actor.requestId,
        }),
      );
    } catch (error) {
      // The refusal stands either way; a lost denial record is worth an operator's attention.
      this.logger.error({ err: error, path: ref.path, environment: ref.environment, permission }, 'could not record a denied secret access');
    }
    throw new SecretException(SecretExceptionCode.PermissionDenied, decision.reason);
  }
}
