import { SecretEventType } from '@llmops/contracts';
import { authorize } from '@llmops/platform-auth';
import type { Outbox } from '@llmops/platform-messaging';
import type { Logger } from '@llmops/platform-observability';
import type { Database } from '@llmops/platform-persistence';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EnvelopeCipher, KeyEncryptionProvider } from '../envelope/index.js';
import { SecretException, SecretExceptionCode } from '../secrets/exceptions/secret.exception.js';
import { eventActorOf, type SecretActor } from '../secrets/secret-access.js';
import { bindingPathOf } from '../secrets/secret-path.js';
import type { Row } from '../secrets/secret-records.js';

/** A provider whose key versions the service itself can add to and retire (the local keyring). */
export interface ManagedKeyProvider extends KeyEncryptionProvider {
  rotate?(): Promise<number>;
  raiseMinDecryptionVersion?(version: number): Promise<void>;
  versions?(): number[];
}

export interface EncryptionKeyStatus {
  provider: string;
  currentVersion: number;
  minDecryptionVersion: number;
  versions: number[];
  dataKeysOnOlderVersions: number;
  dataKeysByVersion: Record<number, number>;
}

/**
 * Key-encryption key lifecycle without downtime, as in Vault Transit: a rotation makes new data keys use the new
 * version at once; `rewrapPending` re-wraps the existing data keys batch by batch (one transaction each, so a crash
 * loses at most a batch and a restart resumes where it stopped); older versions keep decrypting until
 * min_decryption_version is raised, which is refused while any data key still needs them.
 */
export class EncryptionKeys {
  private readonly remainingGauge: Gauge;
  private readonly rewrappedCounter: Counter;
  private readonly currentGauge: Gauge;
  private running?: Promise<number>;

  constructor(
    private readonly database: Database,
    private readonly outbox: Outbox,
    private readonly provider: ManagedKeyProvider,
    private readonly cipher: EnvelopeCipher,
    private readonly logger: Logger,
    registry: Registry,
    private readonly batchSize = 500,
  ) {
    this.remainingGauge = metric(registry, 'secret_kek_rewrap_remaining', () =>
      new Gauge({ name: 'secret_kek_rewrap_remaining', help: 'Data keys still wrapped by an older key-encryption key version', registers: [registry] }),
    );
    this.rewrappedCounter = metric(registry, 'secret_kek_rewrapped_total', () =>
      new Counter({ name: 'secret_kek_rewrapped_total', help: 'Data keys re-wrapped under the current key-encryption key', registers: [registry] }),
    );
    this.currentGauge = metric(registry, 'secret_kek_current_version', () =>
      new Gauge({ name: 'secret_kek_current_version', help: 'Key-encryption key version that wraps new data keys', registers: [registry] }),
    );
    this.currentGauge.set(provider.currentKeyVersion());
  }

  async status(actor: SecretActor): Promise<EncryptionKeyStatus> {
    this.assertKeyAdmin(actor);
    return this.currentStatus();
  }

  async rotate(actor: SecretActor): Promise<EncryptionKeyStatus> {
    this.assertKeyAdmin(actor);
    if (!this.provider.rotate) {
      throw new SecretException(
        SecretExceptionCode.Conflict,
        `the ${this.provider.name} key provider's versions are configured, not created here: add a version (SECRET_KEYRING or SECRET_AWS_KMS_KEYS) and restart`,
      );
    }
    const previous = this.provider.currentKeyVersion();
    const version = await this.provider.rotate();
    this.currentGauge.set(version);
    await this.database.dataSource.transaction((manager) =>
      this.outbox.add(manager, {
        type: SecretEventType.KeyRotated,
        subject: `secret-keys/${this.provider.name}`,
        payload: { provider: this.provider.name, previous_version: previous, version },
        actor: eventActorOf(actor),
        correlationId: actor.requestId,
      }),
    );
    this.startRewrap();
    return this.currentStatus();
  }

  async setMinDecryptionVersion(actor: SecretActor, version: number): Promise<EncryptionKeyStatus> {
    this.assertKeyAdmin(actor);
    if (!this.provider.raiseMinDecryptionVersion) {
      throw new SecretException(
        SecretExceptionCode.Conflict,
        `the ${this.provider.name} key provider's min_decryption_version is configured: set SECRET_KEYRING_MIN_DECRYPTION_VERSION and restart`,
      );
    }
    if (!Number.isSafeInteger(version) || version < 1 || version > this.provider.currentKeyVersion()) {
      throw new SecretException(
        SecretExceptionCode.InvalidValue,
        `min_decryption_version must be 1 to the current key version ${this.provider.currentKeyVersion()}`,
        'min_decryption_version',
      );
    }
    const [row] = (await this.database.dataSource.query(
      `SELECT count(*)::int AS n FROM secret_service.secret_versions WHERE kek_version < $1`,
      [version],
    )) as Row[];
    if (Number(row!.n) > 0) {
      throw new SecretException(
        SecretExceptionCode.Conflict,
        `${Number(row!.n)} data keys are still wrapped by versions below ${version}: wait for the rewrap to finish (secret_kek_rewrap_remaining)`,
        'min_decryption_version',
      );
    }
    await this.provider.raiseMinDecryptionVersion(version);
    return this.currentStatus();
  }

  /** Starts the rewrap in the background unless it is running; errors are logged and retried by the next start. */
  startRewrap(): void {
    if (this.running) return;
    this.running = this.rewrapPending()
      .catch((error: unknown) => {
        this.logger.error({ err: error }, 'rewrapping data keys failed; it resumes at the next start or rotation');
        return 0;
      })
      .finally(() => {
        this.running = undefined;
      });
  }

  /**
   * Logs an error for data keys wrapped by a key version the provider no longer holds (removed from SECRET_KEYRING, or
   * written by a replica pinned to a newer SECRET_KEYRING_CURRENT_VERSION): those secrets cannot be opened here.
   */
  async reportUnknownKeyVersions(): Promise<number[]> {
    const known = new Set(this.provider.versions?.() ?? [this.provider.currentKeyVersion()]);
    const rows = (await this.database.dataSource.query(
      `SELECT DISTINCT kek_version FROM secret_service.secret_versions WHERE kek_version IS NOT NULL`,
    )) as Row[];
    const unknown = rows.map((row) => Number(row.kek_version)).filter((version) => !known.has(version)).sort((a, b) => a - b);
    if (unknown.length > 0) {
      this.logger.error(
        { unknownVersions: unknown, knownVersions: [...known].sort((a, b) => a - b) },
        'data keys are wrapped by key versions this replica does not hold: those secrets cannot be decrypted here',
      );
    }
    return unknown;
  }

  /** Resolves when a running rewrap has stopped. */
  async settled(): Promise<void> {
    await this.running;
  }

  /** Re-wraps every data key below the current version, batch by batch; returns how many it re-wrapped. */
  async rewrapPending(): Promise<number> {
    let total = 0;
    for (;;) {
      const done = await this.rewrapBatch();
      total += done;
      if (done === 0) break;
    }
    await this.refreshRemaining();
    if (total > 0) this.logger.info({ rewrapped: total, version: this.provider.currentKeyVersion() }, 'data keys rewrapped');
    return total;
  }

  /** One batch in one transaction; rows being rewrapped by another replica are skipped, not waited for. */
  async rewrapBatch(): Promise<number> {
    const current = this.provider.currentKeyVersion();
    const done = await this.database.dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `SELECT v.secret_id, v.version, v.ciphertext, v.nonce, v.auth_tag, v.wrapped_dek, v.kek_version, s.environment, s.path
           FROM secret_service.secret_versions v JOIN secret_service.secrets s ON s.id = v.secret_id
          WHERE v.kek_version < $1
          ORDER BY v.kek_version, v.secret_id, v.version
          LIMIT $2
          FOR UPDATE OF v SKIP LOCKED`,
        [current, this.batchSize],
      )) as Row[];
      for (const row of rows) {
        const binding = { path: bindingPathOf({ environment: row.environment as string, path: row.path as string }), version: Number(row.version) };
        const rewrapped = await this.cipher.rewrap(
          {
            algorithm: 'AES-256-GCM',
            ciphertext: row.ciphertext as Buffer,
            nonce: row.nonce as Buffer,
            authTag: row.auth_tag as Buffer,
            wrappedDek: row.wrapped_dek as Buffer,
            kekVersion: Number(row.kek_version),
          },
          binding,
        );
        await manager.query(
          `UPDATE secret_service.secret_versions SET wrapped_dek = $3, kek_version = $4 WHERE secret_id = $1 AND version = $2`,
          [row.secret_id, row.version, rewrapped.wrappedDek, rewrapped.kekVersion],
        );
      }
      return rows.length;
    });
    this.rewrappedCounter.inc(done);
    if (done > 0) await this.refreshRemaining();
    return done;
  }

  private async currentStatus(): Promise<EncryptionKeyStatus> {
    const rows = (await this.database.dataSource.query(
      `SELECT kek_version, count(*)::int AS n FROM secret_service.secret_versions WHERE kek_version IS NOT NULL GROUP BY kek_version`,
    )) as Row[];
    const current = this.provider.currentKeyVersion();
    const dataKeysByVersion = Object.fromEntries(rows.map((row) => [Number(row.kek_version), Number(row.n)]));
    const older = rows.filter((row) => Number(row.kek_version) < current).reduce((sum, row) => sum + Number(row.n), 0);
    this.remainingGauge.set(older);
    return {
      provider: this.provider.name,
      currentVersion: current,
      minDecryptionVersion: this.provider.minDecryptionVersion(),
      versions: this.provider.versions?.() ?? [current],
      dataKeysOnOlderVersions: older,
      dataKeysByVersion,
    };
  }

  private async refreshRemaining(): Promise<void> {
    const [row] = (await this.database.dataSource.query(
      `SELECT count(*)::int AS n FROM secret_service.secret_versions WHERE kek_version < $1`,
      [this.provider.currentKeyVersion()],
    )) as Row[];
    this.remainingGauge.set(Number(row!.n));
  }

  /** Key administration spans every environment: only roles that rotate secrets everywhere may do it. */
  private assertKeyAdmin(actor: SecretActor): void {
    const decision = authorize(actor.principal, 'secrets:rotate', { ip: actor.ip });
    if (!decision.allowed) throw new SecretException(SecretExceptionCode.PermissionDenied, decision.reason);
  }
}

/** One metric per registry, even when several instances share it (replicas in one test process). */
function metric<T>(registry: Registry, name: string, build: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? build();
}
