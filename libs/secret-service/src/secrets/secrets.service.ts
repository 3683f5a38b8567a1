import { SecretEventType, SecretType } from '@llmops/contracts';
import type { JsonObject } from '@bufbuild/protobuf';
import { OutboxGroupCommit, type Outbox } from '@llmops/platform-messaging';
import type { Database } from '@llmops/platform-persistence';
import type { EntityManager } from 'typeorm';
import type { EnvelopeCipher, SealedSecret } from '../envelope/index.js';
import { maskSecretValue, parseSecretValue } from '../secret-types/index.js';
import { DEFAULT_ROTATION_SCHEDULES } from '../rotation/rotation-schedules.js';
import { SecretException, SecretExceptionCode } from './exceptions/secret.exception.js';
import { eventActorOf, type SecretAccess, type SecretActor } from './secret-access.js';
import { assertSecretEnvironment, assertSecretPath, assertSecretRef, bindingPathOf, subjectOf, type SecretRef } from './secret-path.js';
import {
  SECRET_COLUMNS,
  VERSION_COLUMNS,
  secretOf,
  secretTypeName,
  versionOf,
  type Row,
  type SecretRecord,
  type SecretVersionRecord,
} from './secret-records.js';

export type { SecretActor } from './secret-access.js';

/** Secrets are credentials and keys, not documents: a bound that also caps what one reveal can return. */
export const MAX_SECRET_BYTES = 64 * 1024;
const MAX_LISTED = 10_000;
const MAX_LABELS_BYTES = 4 * 1024;
/** Ten years: a schedule beyond that is a typo. */
const MAX_SCHEDULE_SECONDS = 10 * 365 * 24 * 3600;

export interface SetSecretCommand extends SecretRef {
  /** UNSPECIFIED keeps an existing secret's type; a new secret needs one. */
  type: SecretType;
  value: string;
  labels?: Record<string, unknown>;
  /** Check-and-set: the write succeeds only if the newest version equals this (0 = the secret must not exist). */
  expectedVersion?: number;
  maxVersions?: number;
  casRequired?: boolean;
  /** 0 turns rotation off; unset keeps the secret's schedule (a new secret gets its type's default). */
  rotationPeriodSeconds?: number;
  gracePeriodSeconds?: number;
}

export interface SecretRead {
  secret: SecretRecord;
  version: SecretVersionRecord;
  /** The plaintext when revealed, otherwise the masked rendering stored with the version. */
  value: string;
  revealed: boolean;
}

export interface SecretDescription {
  secret: SecretRecord;
  /** Oldest first. */
  versions: SecretVersionRecord[];
}

export interface SecretListing {
  secrets: Array<{ secret: SecretRecord; version?: SecretVersionRecord }>;
  folders: string[];
}

/** Extra state a version is written with, e.g. by a rotation. */
export interface StoreVersionOptions {
  eventType?: SecretEventType;
  details?: JsonObject;
}

/**
 * Secrets under envelope encryption, versioned as in Vault KV v2. Every disclosure and change commits together with
 * its audit event (outbox): if the event cannot be written, nothing is revealed or changed.
 */
export class SecretsService {
  /** Reveal events, committed for many concurrent reveals at once; each reveal still waits for its own. */
  private readonly revealEvents: OutboxGroupCommit;

  constructor(
    private readonly database: Database,
    private readonly outbox: Outbox,
    private readonly cipher: EnvelopeCipher,
    private readonly access: SecretAccess,
  ) {
    this.revealEvents = new OutboxGroupCommit(database.dataSource, outbox);
  }

  async get(actor: SecretActor, ref: SecretRef & { version?: number; reveal?: boolean }): Promise<SecretRead> {
    assertSecretRef(ref);
    await this.access.assertAllowed(actor, ref.reveal ? 'secrets:reveal' : 'secrets:read', ref);
    if (!ref.reveal) {
      const { secret, version } = await this.readableVersion(this.database.dataSource.manager, ref, ref.version);
      return { secret, version, value: version.maskedValue, revealed: false };
    }
    const { secret, version, sealed } = await this.readableVersion(this.database.dataSource.manager, ref, ref.version, { sealed: true });
    const plaintext = await this.cipher.open(sealed!, { path: bindingPathOf(ref), version: version.version });
    try {
      // Fail closed: the plaintext leaves only once its reveal is committed to the audit trail.
      await this.revealEvents.add({
        type: SecretEventType.Revealed,
        subject: subjectOf(ref),
        payload: { path: ref.path, environment: ref.environment, version: version.version, type: secretTypeName(secret.type) },
        actor: eventActorOf(actor),
        correlationId: actor.requestId,
      });
      return { secret, version, value: plaintext.toString('utf8'), revealed: true };
    } finally {
      plaintext.fill(0);
    }
  }

  async set(actor: SecretActor, command: SetSecretCommand): Promise<{ secret: SecretRecord; version: SecretVersionRecord }> {
    assertSecretRef(command);
    await this.access.assertAllowed(actor, 'secrets:write', command);
    this.assertSettings(command);
    const existingType = command.type === SecretType.UNSPECIFIED ? (await this.find(this.database.dataSource.manager, command))?.type : undefined;
    const type = command.type === SecretType.UNSPECIFIED ? (existingType ?? SecretType.UNSPECIFIED) : command.type;
    const size = Buffer.byteLength(command.value, 'utf8');
    if (size > MAX_SECRET_BYTES) {
      throw new SecretException(SecretExceptionCode.ValueTooLarge, `value is ${size} bytes; the limit is ${MAX_SECRET_BYTES}`, 'value');
    }
    const parsed = parseSecretValue(type, command.value);
    return this.database.dataSource.transaction(async (manager) => {
      const secret = await this.lockForWrite(manager, actor, command, type);
      if (secret.type !== type) {
        throw new SecretException(
          SecretExceptionCode.Conflict,
          `${command.path} in ${command.environment} is a ${secretTypeName(secret.type)} secret; delete it to store a ${secretTypeName(type)}`,
          'type',
        );
      }
      this.checkExpectedVersion(secret, command);
      const schedule = rotationScheduleOf(secret, command);
      await manager.query(
        `UPDATE secret_service.secrets
            SET labels = COALESCE($2::jsonb, labels), max_versions = COALESCE($3, max_versions),
                cas_required = COALESCE($4, cas_required), rotation_period_seconds = $5, grace_period_seconds = $6,
                next_rotation_at = CASE WHEN $5::int IS NULL THEN NULL
                                        WHEN rotation_period_seconds IS DISTINCT FROM $5::int OR next_rotation_at IS NULL
                                        THEN now() + make_interval(secs => $5::int) ELSE next_rotation_at END,
                updated_at = now()
          WHERE id = $1`,
        [
          secret.id,
          command.labels ? JSON.stringify(command.labels) : null,
          command.maxVersions ?? null,
          command.casRequired ?? null,
          schedule.rotationPeriodSeconds,
          schedule.gracePeriodSeconds,
        ],
      );
      secret.maxVersions = command.maxVersions ?? secret.maxVersions;
      const version = await this.storeVersion(manager, actor, secret, parsed.value, parsed.facts, {
        eventType: secret.currentVersion === 0 ? SecretEventType.Created : SecretEventType.Updated,
      });
      return { secret: (await this.find(manager, command))!, version };
    });
  }

  /**
   * Seals `value` as the secret's next version in `manager`'s transaction, prunes versions beyond max_versions and
   * adds the event. The caller holds the secret's row lock.
   */
  async storeVersion(
    manager: EntityManager,
    actor: SecretActor,
    secret: SecretRecord,
    value: string,
    facts: Record<string, string | number | boolean>,
    options: StoreVersionOptions = {},
  ): Promise<SecretVersionRecord> {
    const version = secret.currentVersion + 1;
    const plaintext = Buffer.from(value, 'utf8');
    let sealed: SealedSecret;
    try {
      sealed = await this.cipher.seal(plaintext, { path: bindingPathOf(secret), version });
    } finally {
      plaintext.fill(0);
    }
    const [row] = (await manager.query(
      `INSERT INTO secret_service.secret_versions
         (secret_id, version, ciphertext, nonce, auth_tag, wrapped_dek, kek_version, masked_value, facts, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       RETURNING ${VERSION_COLUMNS}`,
      [
        secret.id,
        version,
        sealed.ciphertext,
        sealed.nonce,
        sealed.authTag,
        sealed.wrappedDek,
        sealed.kekVersion,
        maskSecretValue(secret.type, value),
        JSON.stringify(facts),
        actor.principal.id,
      ],
    )) as Row[];
    await manager.query(`UPDATE secret_service.secrets SET current_version = $2, updated_at = now() WHERE id = $1`, [secret.id, version]);
    if (secret.maxVersions > 0) {
      await manager.query(`DELETE FROM secret_service.secret_versions WHERE secret_id = $1 AND version <= $2`, [
        secret.id,
        version - secret.maxVersions,
      ]);
    }
    await this.outbox.add(manager, {
      type: options.eventType ?? SecretEventType.Updated,
      subject: subjectOf(secret),
      payload: {
        path: secret.path,
        environment: secret.environment,
        version,
        type: secretTypeName(secret.type),
        kek_version: sealed.kekVersion,
        ...options.details,
      },
      actor: eventActorOf(actor),
      correlationId: actor.requestId,
    });
    return versionOf(row!);
  }

  async describe(actor: SecretActor, ref: SecretRef): Promise<SecretDescription> {
    assertSecretRef(ref);
    await this.access.assertAllowed(actor, 'secrets:read', ref);
    const manager = this.database.dataSource.manager;
    const secret = await this.require(manager, ref);
    const rows = (await manager.query(
      `SELECT ${VERSION_COLUMNS} FROM secret_service.secret_versions WHERE secret_id = $1 ORDER BY version`,
      [secret.id],
    )) as Row[];
    return { secret, versions: rows.map(versionOf) };
  }

  /**
   * The JSON Web Key Set of a JWT signing key secret: the public keys of the current version and of any previous
   * version still in its rotation overlap. Public material only, so no permission is needed (as for any JWKS URL).
   */
  async jwks(ref: SecretRef): Promise<{ keys: unknown[] }> {
    assertSecretRef(ref);
    const manager = this.database.dataSource.manager;
    const secret = await this.require(manager, ref);
    if (secret.type !== SecretType.JWT_SIGNING_KEY) {
      throw new SecretException(SecretExceptionCode.InvalidValue, `${ref.path} in ${ref.environment} is not a jwt_signing_key secret`, 'path');
    }
    const rows = (await manager.query(
      `SELECT facts->>'public_jwk' AS jwk FROM secret_service.secret_versions
        WHERE secret_id = $1 AND destroyed_at IS NULL AND deleted_at IS NULL AND revoked_at IS NULL
          AND (version = $2 OR valid_until > now()) AND facts ? 'public_jwk'
        ORDER BY version DESC`,
      [secret.id, secret.currentVersion],
    )) as Row[];
    return { keys: rows.map((row) => JSON.parse(row.jwk as string) as unknown) };
  }

  /** The secrets directly in `folder` (with their current version's state) and the folders below it. */
  async list(actor: SecretActor, query: { folder: string; environment: string }): Promise<SecretListing> {
    const folder = query.folder.replace(/\/+$/, '');
    assertSecretEnvironment(query.environment);
    assertSecretPath(folder, { folder: true });
    await this.access.assertAllowed(actor, 'secrets:read', { path: folder, environment: query.environment });
    const prefix = folder === '' ? '' : `${folder}/`;
    const rows = (await this.database.dataSource.query(
      `SELECT ${SECRET_COLUMNS.replace(/(\w+)/g, 's.$1')},
              v.version AS v_version, v.kek_version AS v_kek_version, v.masked_value AS v_masked_value, v.facts AS v_facts,
              v.created_by AS v_created_by, v.created_at AS v_created_at, v.deleted_at AS v_deleted_at,
              v.destroyed_at AS v_destroyed_at, v.valid_until AS v_valid_until, v.revoked_at AS v_revoked_at
         FROM secret_service.secrets s
         LEFT JOIN secret_service.secret_versions v ON v.secret_id = s.id AND v.version = s.current_version
        WHERE s.environment = $1 AND s.path LIKE $2 ESCAPE '\\'
        ORDER BY s.path
        LIMIT ${MAX_LISTED + 1}`,
      [query.environment, `${escapeLike(prefix)}%`],
    )) as Row[];
    if (rows.length > MAX_LISTED) {
      throw new SecretException(SecretExceptionCode.InvalidPath, `more than ${MAX_LISTED} secrets under ${folder || 'the top level'}; list a narrower folder`, 'folder');
    }
    const listing: SecretListing = { secrets: [], folders: [] };
    const folders = new Set<string>();
    for (const row of rows) {
      const rest = (row.path as string).slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash >= 0) {
        folders.add(`${rest.slice(0, slash)}/`);
        continue;
      }
      const version = row.v_version === null ? undefined : versionOf(unprefixed(row, 'v_'));
      listing.secrets.push({ secret: secretOf(row), version });
    }
    listing.folders = [...folders].sort();
    if (folder !== '' && listing.secrets.length === 0 && listing.folders.length === 0) {
      throw new SecretException(SecretExceptionCode.NotFound, `no secrets under ${folder} in ${query.environment}`);
    }
    return listing;
  }

  async deleteVersions(actor: SecretActor, ref: SecretRef, versions: number[]): Promise<number[]> {
    return this.changeVersions(actor, ref, versions, {
      event: SecretEventType.VersionsDeleted,
      set: 'deleted_at = now()',
      applies: 'deleted_at IS NULL AND destroyed_at IS NULL',
    });
  }

  async undeleteVersions(actor: SecretActor, ref: SecretRef, versions: number[]): Promise<number[]> {
    return this.changeVersions(actor, ref, versions, {
      event: SecretEventType.VersionsUndeleted,
      set: 'deleted_at = NULL',
      applies: 'deleted_at IS NOT NULL AND destroyed_at IS NULL',
    });
  }

  /** Erases the versions' ciphertext and wrapped keys for good; their metadata stays, marked destroyed. */
  async destroyVersions(actor: SecretActor, ref: SecretRef, versions: number[]): Promise<number[]> {
    return this.changeVersions(actor, ref, versions, {
      event: SecretEventType.VersionsDestroyed,
      set: 'destroyed_at = now(), ciphertext = NULL, nonce = NULL, auth_tag = NULL, wrapped_dek = NULL, kek_version = NULL',
      applies: 'destroyed_at IS NULL',
    });
  }

  /** Erases the secret, every version and its metadata. */
  async deleteSecret(actor: SecretActor, ref: SecretRef): Promise<void> {
    assertSecretRef(ref);
    await this.access.assertAllowed(actor, 'secrets:write', ref);
    await this.database.dataSource.transaction(async (manager) => {
      const deleted = (await manager.query(
        // Through a CTE: TypeORM answers a bare DELETE … RETURNING with [rows, count].
        `WITH gone AS (DELETE FROM secret_service.secrets WHERE environment = $1 AND path = $2 RETURNING current_version) SELECT * FROM gone`,
        [ref.environment, ref.path],
      )) as Row[];
      if (deleted.length === 0) throw notFound(ref);
      await this.outbox.add(manager, {
        type: SecretEventType.Deleted,
        subject: subjectOf(ref),
        payload: { path: ref.path, environment: ref.environment, versions: Number(deleted[0]!.current_version) },
        actor: eventActorOf(actor),
        correlationId: actor.requestId,
      });
    });
  }

  /**
   * The plaintext of one version for the service's own use (rotation), without an access check or event: the
   * caller records what it does with it. The caller zeroes the buffer.
   */
  async openVersion(manager: EntityManager, secret: SecretRecord, version: number): Promise<Buffer> {
    const { version: record, sealed } = await this.readableVersion(manager, secret, version, { sealed: true });
    return this.cipher.open(sealed!, { path: bindingPathOf(secret), version: record.version });
  }

  /** The secret's row, locked for the rest of `manager`'s transaction. */
  async lock(manager: EntityManager, ref: SecretRef): Promise<SecretRecord> {
    const [row] = (await manager.query(
      `SELECT ${SECRET_COLUMNS} FROM secret_service.secrets WHERE environment = $1 AND path = $2 FOR UPDATE`,
      [ref.environment, ref.path],
    )) as Row[];
    if (!row) throw notFound(ref);
    return secretOf(row);
  }

  private async changeVersions(
    actor: SecretActor,
    ref: SecretRef,
    requested: number[],
    change: { event: SecretEventType; set: string; applies: string },
  ): Promise<number[]> {
    assertSecretRef(ref);
    requested.forEach((version, index) => {
      if (!Number.isSafeInteger(version) || version < 1) {
        throw new SecretException(SecretExceptionCode.InvalidValue, `versions[${index}] must be a positive integer`, `versions[${index}]`);
      }
    });
    await this.access.assertAllowed(actor, 'secrets:write', ref);
    return this.database.dataSource.transaction(async (manager) => {
      const secret = await this.lock(manager, ref);
      const versions = requested.length > 0 ? [...new Set(requested)].sort((a, b) => a - b) : [secret.currentVersion];
      const existing = (await manager.query(
        `SELECT version FROM secret_service.secret_versions WHERE secret_id = $1 AND version = ANY($2::int[])`,
        [secret.id, versions],
      )) as Row[];
      const missing = versions.filter((version) => !existing.some((row) => Number(row.version) === version));
      if (missing.length > 0) {
        throw new SecretException(SecretExceptionCode.NotFound, `${ref.path} in ${ref.environment} has no version ${missing.join(', ')}`, 'versions');
      }
      const changed = (await manager.query(
        `WITH changed AS (
           UPDATE secret_service.secret_versions SET ${change.set}
            WHERE secret_id = $1 AND version = ANY($2::int[]) AND ${change.applies}
            RETURNING version)
         SELECT version FROM changed`,
        [secret.id, versions],
      )) as Row[];
      const done = changed.map((row) => Number(row.version)).sort((a, b) => a - b);
      if (done.length > 0) {
        await manager.query(`UPDATE secret_service.secrets SET updated_at = now() WHERE id = $1`, [secret.id]);
        await this.outbox.add(manager, {
          type: change.event,
          subject: subjectOf(ref),
          payload: { path: ref.path, environment: ref.environment, versions: done },
          actor: eventActorOf(actor),
          correlationId: actor.requestId,
        });
      }
      return done;
    });
  }

  /** Creates the secret's row on first write, then locks it, so concurrent first writes serialize like any others. */
  private async lockForWrite(manager: EntityManager, actor: SecretActor, command: SetSecretCommand, type: SecretType): Promise<SecretRecord> {
    await manager.query(
      `INSERT INTO secret_service.secrets (environment, path, type, created_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (environment, path) DO NOTHING`,
      [command.environment, command.path, secretTypeName(type), actor.principal.id],
    );
    return this.lock(manager, command);
  }

  private checkExpectedVersion(secret: SecretRecord, command: SetSecretCommand): void {
    if (command.expectedVersion === undefined) {
      if (secret.casRequired || command.casRequired) {
        throw new SecretException(
          SecretExceptionCode.InvalidValue,
          `${command.path} requires check-and-set: send expected_version (the current version is ${secret.currentVersion})`,
          'expected_version',
        );
      }
      return;
    }
    if (command.expectedVersion !== secret.currentVersion) {
      throw new SecretException(
        SecretExceptionCode.VersionConflict,
        `${command.path} in ${command.environment} is at version ${secret.currentVersion}, not ${command.expectedVersion}`,
        'expected_version',
      );
    }
  }

  private assertSettings(command: SetSecretCommand): void {
    if (command.expectedVersion !== undefined && (!Number.isSafeInteger(command.expectedVersion) || command.expectedVersion < 0)) {
      throw new SecretException(SecretExceptionCode.InvalidValue, 'expected_version must be a non-negative integer', 'expected_version');
    }
    if (command.maxVersions !== undefined && (!Number.isSafeInteger(command.maxVersions) || command.maxVersions < 0 || command.maxVersions > 1000)) {
      throw new SecretException(SecretExceptionCode.InvalidValue, 'max_versions must be 0 (keep all) to 1000', 'max_versions');
    }
    for (const field of ['rotationPeriodSeconds', 'gracePeriodSeconds'] as const) {
      const value = command[field];
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 0 || value > MAX_SCHEDULE_SECONDS)) {
        const name = field === 'rotationPeriodSeconds' ? 'rotation_period_seconds' : 'grace_period_seconds';
        throw new SecretException(SecretExceptionCode.InvalidValue, `${name} must be 0 to ${MAX_SCHEDULE_SECONDS} seconds`, name);
      }
    }
    if (command.labels !== undefined) {
      const size = Buffer.byteLength(JSON.stringify(command.labels));
      if (size > MAX_LABELS_BYTES) {
        throw new SecretException(SecretExceptionCode.InvalidValue, `labels are ${size} bytes; the limit is ${MAX_LABELS_BYTES}`, 'labels');
      }
    }
  }

  private async readableVersion(
    manager: EntityManager,
    ref: SecretRef,
    requested: number | undefined,
    options: { sealed?: boolean } = {},
  ): Promise<{ secret: SecretRecord; version: SecretVersionRecord; sealed?: SealedSecret }> {
    const secret = await this.require(manager, ref);
    const wanted = requested && requested > 0 ? requested : secret.currentVersion;
    const [row] = (await manager.query(
      `SELECT ${VERSION_COLUMNS}${options.sealed ? ', ciphertext, nonce, auth_tag, wrapped_dek' : ''}
         FROM secret_service.secret_versions WHERE secret_id = $1 AND version = $2`,
      [secret.id, wanted],
    )) as Row[];
    if (!row) throw new SecretException(SecretExceptionCode.NotFound, `${ref.path} in ${ref.environment} has no version ${wanted}`, 'version');
    const version = versionOf(row);
    if (version.destroyedAt) {
      throw new SecretException(SecretExceptionCode.NotFound, `version ${wanted} of ${ref.path} in ${ref.environment} was destroyed`, 'version');
    }
    if (version.deletedAt) {
      throw new SecretException(
        SecretExceptionCode.NotFound,
        `version ${wanted} of ${ref.path} in ${ref.environment} is deleted; undelete it to read it`,
        'version',
      );
    }
    const sealed: SealedSecret | undefined = options.sealed
      ? {
          algorithm: 'AES-256-GCM',
          ciphertext: row.ciphertext as Buffer,
          nonce: row.nonce as Buffer,
          authTag: row.auth_tag as Buffer,
          wrappedDek: row.wrapped_dek as Buffer,
          kekVersion: version.kekVersion!,
        }
      : undefined;
    return { secret, version, sealed };
  }

  private async find(manager: EntityManager, ref: SecretRef): Promise<SecretRecord | undefined> {
    const [row] = (await manager.query(`SELECT ${SECRET_COLUMNS} FROM secret_service.secrets WHERE environment = $1 AND path = $2`, [
      ref.environment,
      ref.path,
    ])) as Row[];
    return row ? secretOf(row) : undefined;
  }

  private async require(manager: EntityManager, ref: SecretRef): Promise<SecretRecord> {
    const secret = await this.find(manager, ref);
    if (!secret) throw notFound(ref);
    return secret;
  }
}

/**
 * The schedule a write leaves in place: what the command says, else the secret's own, else (first write) its
 * type's default. A period of 0 means "never", stored as NULL.
 */
function rotationScheduleOf(
  secret: SecretRecord,
  command: SetSecretCommand,
): { rotationPeriodSeconds: number | null; gracePeriodSeconds: number | null } {
  const fallback = secret.currentVersion === 0 ? DEFAULT_ROTATION_SCHEDULES[secretTypeName(secret.type)] : undefined;
  const period = command.rotationPeriodSeconds ?? secret.rotationPeriodSeconds ?? fallback?.rotationPeriodSeconds ?? null;
  const grace = command.gracePeriodSeconds ?? secret.gracePeriodSeconds ?? fallback?.gracePeriodSeconds ?? null;
  return { rotationPeriodSeconds: period === 0 ? null : period, gracePeriodSeconds: grace };
}

function notFound(ref: SecretRef): SecretException {
  return new SecretException(SecretExceptionCode.NotFound, `secret ${ref.path} not found in ${ref.environment}`);
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}

function unprefixed(row: Row, prefix: string): Row {
  return Object.fromEntries(Object.entries(row).filter(([key]) => key.startsWith(prefix)).map(([key, value]) => [key.slice(prefix.length), value]));
}
