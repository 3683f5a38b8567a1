import { SecretEventType } from '@llmops/contracts';
import type { Outbox } from '@llmops/platform-messaging';
import type { Logger } from '@llmops/platform-observability';
import type { Database } from '@llmops/platform-persistence';
import type { EntityManager } from 'typeorm';
import { parseSecretValue } from '../secret-types/index.js';
import { SecretException, SecretExceptionCode } from '../secrets/exceptions/secret.exception.js';
import { eventActorOf, type SecretAccess, type SecretActor } from '../secrets/secret-access.js';
import { assertSecretPath, assertSecretRef, subjectOf, type SecretRef } from '../secrets/secret-path.js';
import { secretTypeName, type Row, type SecretRecord, type SecretVersionRecord } from '../secrets/secret-records.js';
import type { SecretsService } from '../secrets/secrets.service.js';
import type { RotationContext, SecretRotators } from './secret-rotator.js';

export interface RotationResult {
  secret: SecretRecord;
  version: SecretVersionRecord;
  previousVersion: number;
  /** Until then the previous version stays valid; undefined when it was revoked at once (no grace period). */
  previousValidUntil?: Date;
}

/** While the previous value is still in use, revocation waits at most one more grace period, then happens anyway. */
const IN_USE_RETRY_SECONDS = 60;

/**
 * The seven steps of a zero-downtime rotation (seed 001 §3.3): generate, test, store the new version, overlap (the
 * previous version stays valid for the grace period), verify nobody uses the previous value, revoke it, schedule the
 * next rotation. Steps 1-4 and 7 run in `rotate`, under the secret's row lock; 5-6 run when the overlap ends
 * (`revokeEndedOverlaps`, called by the scheduler), or at once when there is no grace period.
 */
export class SecretRotation {
  constructor(
    private readonly database: Database,
    private readonly outbox: Outbox,
    private readonly secrets: SecretsService,
    private readonly rotators: SecretRotators,
    private readonly access: SecretAccess,
    private readonly logger: Logger,
  ) {}

  async rotate(actor: SecretActor, ref: SecretRef): Promise<RotationResult> {
    assertSecretRef(ref);
    await this.access.assertAllowed(actor, 'secrets:rotate', ref);
    let result: RotationResult;
    try {
      result = await this.database.dataSource.transaction((manager) => this.rotateWithin(manager, actor, ref));
    } catch (error) {
      await this.recordFailure(actor, ref, error);
      throw error;
    }
    if (!result.previousValidUntil && result.previousVersion > 0) {
      try {
        await this.revokeVersion(actor, ref, result.previousVersion, { force: true });
      } catch (error) {
        // The new version is stored and in use; the previous one's overlap has ended, so the scheduler retries.
        this.logger.warn({ err: error, path: ref.path, environment: ref.environment }, 'revoking the previous secret version failed; retried by the scheduler');
      }
    }
    return result;
  }

  /** Revokes every previous version whose overlap has ended; returns how many were revoked. */
  async revokeEndedOverlaps(actor: SecretActor, now = new Date()): Promise<number> {
    const due = (await this.database.dataSource.query(
      `SELECT s.environment, s.path, v.version
         FROM secret_service.secret_versions v JOIN secret_service.secrets s ON s.id = v.secret_id
        WHERE v.valid_until <= $1 AND v.revoked_at IS NULL AND v.destroyed_at IS NULL
        ORDER BY v.valid_until LIMIT 100`,
      [now],
    )) as Row[];
    let revoked = 0;
    for (const row of due) {
      const ref = { environment: row.environment as string, path: row.path as string };
      try {
        if (await this.revokeVersion(actor, ref, Number(row.version), { now })) revoked += 1;
      } catch (error) {
        this.logger.error({ err: error, path: ref.path, environment: ref.environment, version: Number(row.version) }, 'revoking a rotated secret version failed');
      }
    }
    return revoked;
  }

  /** Rotates every secret whose next rotation is due; returns how many rotated. */
  async rotateDue(actor: SecretActor, now = new Date()): Promise<number> {
    const due = (await this.database.dataSource.query(
      `SELECT environment, path FROM secret_service.secrets WHERE next_rotation_at <= $1 ORDER BY next_rotation_at LIMIT 100`,
      [now],
    )) as Row[];
    let rotated = 0;
    for (const row of due) {
      const ref = { environment: row.environment as string, path: row.path as string };
      try {
        await this.rotate(actor, ref);
        rotated += 1;
      } catch (error) {
        // A failed scheduled rotation is retried one period later; the failure is in the audit log as an alert.
        await this.database.dataSource.query(
          `UPDATE secret_service.secrets SET next_rotation_at = now() + make_interval(secs => rotation_period_seconds)
            WHERE environment = $1 AND path = $2 AND rotation_period_seconds IS NOT NULL`,
          [ref.environment, ref.path],
        );
        this.logger.warn({ err: error, path: ref.path, environment: ref.environment }, 'scheduled secret rotation failed');
      }
    }
    return rotated;
  }

  private async rotateWithin(manager: EntityManager, actor: SecretActor, ref: SecretRef): Promise<RotationResult> {
    const secret = await this.secrets.lock(manager, ref);
    const [overlapping] = (await manager.query(
      `SELECT version, valid_until FROM secret_service.secret_versions
        WHERE secret_id = $1 AND valid_until IS NOT NULL AND revoked_at IS NULL AND destroyed_at IS NULL`,
      [secret.id],
    )) as Row[];
    if (overlapping) {
      // The next rotation would reuse what the previous value unlocks (e.g. the alternate role) while clients still hold it.
      throw new SecretException(
        SecretExceptionCode.Conflict,
        `${ref.path} in ${ref.environment} is still in the overlap of its last rotation (version ${Number(overlapping.version)} valid until ${new Date(overlapping.valid_until as string).toISOString()}); rotate after it is revoked`,
      );
    }
    const currentBuffer = await this.secrets.openVersion(manager, secret, secret.currentVersion);
    const current = currentBuffer.toString('utf8');
    currentBuffer.fill(0);
    const rotator = this.rotators.for(secret, current);
    if (!rotator) {
      // Not retryable: the secret needs a rotator (or a different shape), so this is a conflict, not an outage.
      throw new SecretException(SecretExceptionCode.Conflict, `no rotator handles ${secretTypeName(secret.type)} secrets like ${ref.path}`);
    }
    const { context, readPaths } = this.contextFor(manager, secret);
    const candidate = await this.step('generate', rotator.name, () => rotator.generate(current, secret, context));
    await this.step('test', rotator.name, () => rotator.test(candidate, secret, context));
    const parsed = parseSecretValue(secret.type, candidate);
    const grace = secret.gracePeriodSeconds ?? 0;
    const previousValidUntil = grace > 0 ? new Date(Date.now() + grace * 1000) : undefined;
    const version = await this.secrets.storeVersion(manager, actor, secret, parsed.value, parsed.facts, {
      eventType: SecretEventType.Rotated,
      details: {
        rotator: rotator.name,
        previous_version: secret.currentVersion,
        ...(previousValidUntil ? { previous_valid_until: previousValidUntil.toISOString() } : {}),
        ...(readPaths.length > 0 ? { read_secrets: readPaths } : {}),
      },
    });
    await manager.query(`UPDATE secret_service.secret_versions SET valid_until = $3 WHERE secret_id = $1 AND version = $2`, [
      secret.id,
      secret.currentVersion,
      previousValidUntil ?? new Date(),
    ]);
    await manager.query(
      `UPDATE secret_service.secrets
          SET next_rotation_at = CASE WHEN rotation_period_seconds IS NULL THEN NULL ELSE now() + make_interval(secs => rotation_period_seconds) END
        WHERE id = $1`,
      [secret.id],
    );
    return { secret: await this.secrets.lock(manager, ref), version, previousVersion: secret.currentVersion, previousValidUntil };
  }

  /**
   * Steps 5 and 6 for one version. Returns false when revocation was postponed because the previous value is
   * still in use and the grace period allows waiting.
   */
  private async revokeVersion(actor: SecretActor, ref: SecretRef, version: number, options: { force?: boolean; now?: Date } = {}): Promise<boolean> {
    return this.database.dataSource.transaction(async (manager) => {
      const secret = await this.secrets.lock(manager, ref);
      const [state] = (await manager.query(
        `SELECT v.revoked_at, v.valid_until, next.created_at AS rotated_at
           FROM secret_service.secret_versions v
           LEFT JOIN secret_service.secret_versions next ON next.secret_id = v.secret_id AND next.version = v.version + 1
          WHERE v.secret_id = $1 AND v.version = $2`,
        [secret.id, version],
      )) as Row[];
      if (!state || state.revoked_at !== null) return false;
      const previous = await this.openPlain(manager, secret, version);
      const current = await this.openPlain(manager, secret, secret.currentVersion);
      const rotator = this.rotators.for(secret, current);
      if (!rotator) throw new SecretException(SecretExceptionCode.Conflict, `no rotator handles ${ref.path} any more`);
      const { context, readPaths } = this.contextFor(manager, secret);
      const inUse = rotator.activeUsers ? await this.step('verify', rotator.name, () => rotator.activeUsers!(previous, secret, context)) : 0;
      const now = options.now ?? new Date();
      const deadline = new Date(new Date((state.rotated_at as string | null) ?? now).getTime() + 2 * (secret.gracePeriodSeconds ?? 0) * 1000);
      if (inUse > 0 && !options.force && now < deadline) {
        await manager.query(`UPDATE secret_service.secret_versions SET valid_until = $3 WHERE secret_id = $1 AND version = $2`, [
          secret.id,
          version,
          new Date(Math.min(deadline.getTime(), now.getTime() + IN_USE_RETRY_SECONDS * 1000)),
        ]);
        this.logger.info({ path: ref.path, environment: ref.environment, version, inUse }, 'previous secret version still in use; revocation postponed');
        return false;
      }
      await this.step('revoke', rotator.name, () => rotator.revoke(previous, current, secret, context));
      await manager.query(`UPDATE secret_service.secret_versions SET revoked_at = now() WHERE secret_id = $1 AND version = $2`, [secret.id, version]);
      await this.outbox.add(manager, {
        type: SecretEventType.PreviousVersionRevoked,
        subject: subjectOf(ref),
        payload: {
          path: ref.path,
          environment: ref.environment,
          version,
          rotator: rotator.name,
          still_in_use: inUse,
          ...(readPaths.length > 0 ? { read_secrets: readPaths } : {}),
        },
        actor: eventActorOf(actor),
        correlationId: actor.requestId,
      });
      return true;
    });
  }

  /**
   * The context a rotator's steps get inside `manager`'s transaction; `readPaths` lists the secrets they opened, for
   * the audit event. The rotator reads them without the actor's reveal permission: their values never leave the
   * service, and the event records that they were used.
   */
  private contextFor(manager: EntityManager, secret: SecretRecord): { context: RotationContext; readPaths: string[] } {
    const readPaths: string[] = [];
    const context: RotationContext = {
      readSecret: async (path) => {
        assertSecretPath(path);
        if (path === secret.path) {
          throw new SecretException(SecretExceptionCode.RotationFailed, `the rotation of ${secret.path} cannot read its own value as another secret`);
        }
        try {
          // Locked, so the other secret (e.g. the admin credentials) cannot rotate in the middle of this step.
          const other = await this.secrets.lock(manager, { environment: secret.environment, path });
          const value = await this.openPlain(manager, other, other.currentVersion);
          if (!readPaths.includes(path)) readPaths.push(path);
          return { type: other.type, value, labels: other.labels };
        } catch (error) {
          if (!(error instanceof SecretException)) throw error;
          throw new SecretException(SecretExceptionCode.RotationFailed, `the rotation of ${secret.path} needs ${path}: ${error.message}`);
        }
      },
    };
    return { context, readPaths };
  }

  private async openPlain(manager: EntityManager, secret: SecretRecord, version: number): Promise<string> {
    const buffer = await this.secrets.openVersion(manager, secret, version);
    try {
      return buffer.toString('utf8');
    } finally {
      buffer.fill(0);
    }
  }

  /** Runs one rotator step; its failure becomes ROTATION_FAILED naming the step, never echoing secret material. */
  private async step<T>(name: string, rotator: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof SecretException) throw error;
      const reason = error instanceof Error ? error.name : 'error';
      this.logger.warn({ rotator, step: name, errorName: reason }, 'secret rotation step failed');
      throw new SecretException(SecretExceptionCode.RotationFailed, `rotation step "${name}" of rotator ${rotator} failed (${reason}); the current version stays in place`);
    }
  }

  private async recordFailure(actor: SecretActor, ref: SecretRef, error: unknown): Promise<void> {
    if (!(error instanceof SecretException) || error.code === SecretExceptionCode.PermissionDenied) return;
    try {
      await this.database.dataSource.transaction((manager) =>
        this.outbox.add(manager, {
          type: SecretEventType.RotationFailed,
          subject: subjectOf(ref),
          payload: { path: ref.path, environment: ref.environment, code: error.code, reason: error.message },
          actor: eventActorOf(actor),
          correlationId: actor.requestId,
        }),
      );
    } catch (recordError) {
      this.logger.error({ err: recordError, path: ref.path }, 'could not record a failed secret rotation');
    }
  }
}
