import { SecretType } from '@llmops/contracts';
import { SecretException, SecretExceptionCode } from './exceptions/secret.exception.js';

/** A secret's row: identity, type and settings; never its value. */
export interface SecretRecord {
  id: string;
  path: string;
  environment: string;
  type: SecretType;
  labels: Record<string, unknown>;
  currentVersion: number;
  maxVersions: number;
  casRequired: boolean;
  rotationPeriodSeconds: number | null;
  gracePeriodSeconds: number | null;
  nextRotationAt: Date | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

/** One version's state and its non-secret facts; the sealed value is read only where it is opened. */
export interface SecretVersionRecord {
  version: number;
  kekVersion: number | null;
  maskedValue: string;
  facts: Record<string, string | number | boolean>;
  createdBy: string;
  createdAt: Date;
  deletedAt: Date | null;
  destroyedAt: Date | null;
  validUntil: Date | null;
  revokedAt: Date | null;
}

export const SECRET_COLUMNS = `id, path, environment, type, labels, current_version, max_versions, cas_required,
  rotation_period_seconds, grace_period_seconds, next_rotation_at, created_by, created_at, updated_at`;

export const VERSION_COLUMNS = `version, kek_version, masked_value, facts, created_by, created_at, deleted_at, destroyed_at, valid_until, revoked_at`;

export type Row = Record<string, unknown>;

export function secretOf(row: Row): SecretRecord {
  return {
    id: row.id as string,
    path: row.path as string,
    environment: row.environment as string,
    type: secretTypeFromName(row.type as string),
    labels: (row.labels ?? {}) as Record<string, unknown>,
    currentVersion: Number(row.current_version),
    maxVersions: Number(row.max_versions),
    casRequired: Boolean(row.cas_required),
    rotationPeriodSeconds: row.rotation_period_seconds === null ? null : Number(row.rotation_period_seconds),
    gracePeriodSeconds: row.grace_period_seconds === null ? null : Number(row.grace_period_seconds),
    nextRotationAt: dateOrNull(row.next_rotation_at),
    createdBy: row.created_by as string,
    createdAt: new Date(row.created_at as string),
    updatedAt: new Date(row.updated_at as string),
  };
}

export function versionOf(row: Row): SecretVersionRecord {
  return {
    version: Number(row.version),
    kekVersion: row.kek_version === null ? null : Number(row.kek_version),
    maskedValue: row.masked_value as string,
    facts: (row.facts ?? {}) as Record<string, string | number | boolean>,
    createdBy: row.created_by as string,
    createdAt: new Date(row.created_at as string),
    deletedAt: dateOrNull(row.deleted_at),
    destroyedAt: dateOrNull(row.destroyed_at),
    validUntil: dateOrNull(row.valid_until),
    revokedAt: dateOrNull(row.revoked_at),
  };
}

/** `SecretType.API_KEY` ↔ `api_key`: the stored name survives renumbering and reads well in SQL. */
export function secretTypeName(type: SecretType): string {
  return SecretType[type].toLowerCase();
}

export function secretTypeFromName(name: string): SecretType {
  const type = SecretType[name.toUpperCase() as keyof typeof SecretType];
  if (type === undefined) throw new SecretException(SecretExceptionCode.InvalidValue, `unknown secret type ${JSON.stringify(name)}`, 'type');
  return type;
}

function dateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : new Date(value as string);
}
