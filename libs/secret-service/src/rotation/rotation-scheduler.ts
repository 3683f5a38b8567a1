import type { Logger } from '@llmops/platform-observability';
import type { SecretActor } from '../secrets/secret-access.js';
import type { SecretRotation } from './secret-rotation.js';

/** Scheduled rotations and revocations act as the service itself, recorded as such in the audit log. */
export const ROTATION_SCHEDULER_ACTOR: SecretActor = {
  principal: { id: 'secret-service/rotation-scheduler', type: 'service', roles: ['global-admin'] },
  requestId: 'rotation-scheduler',
};

/** Runs due rotations and ends overlaps (verify + revoke) on a fixed period; one pass at a time. */
export class RotationScheduler {
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;

  constructor(
    private readonly rotation: SecretRotation,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.pass;
  }

  async runOnce(now = new Date()): Promise<void> {
    if (this.pass) return this.pass;
    this.pass = (async () => {
      try {
        const revoked = await this.rotation.revokeEndedOverlaps(ROTATION_SCHEDULER_ACTOR, now);
        const rotated = await this.rotation.rotateDue(ROTATION_SCHEDULER_ACTOR, now);
        if (revoked + rotated > 0) this.logger.info({ revoked, rotated }, 'secret rotation pass');
      } catch (error) {
        this.logger.error({ err: error }, 'secret rotation pass failed');
      } finally {
        this.pass = undefined;
      }
    })();
    return this.pass;
  }
}
