import type { JsonObject } from '@bufbuild/protobuf';
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import type {
  DescribeSecretResponse,
  EncryptionKeyStatus,
  GetSecretResponse,
  ListSecretsResponse,
  RotateSecretResponse,
  SecretMetadata,
  SecretVersion,
} from '@llmops/contracts';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { secretTypeNameOf } from './secret-requests.js';

/** A secret's settings and the state of one version (the current one unless another was read); never its value. */
export interface SecretMetadataView {
  path: string;
  environment: string;
  type: string;
  version: number;
  current_version: number;
  labels: JsonObject;
  /** Non-secret facts about the value, e.g. a certificate's subject and expiry. */
  facts: JsonObject;
  created_at: string;
  created_by: string;
  updated_at: string | null;
  next_rotation_at: string | null;
  max_versions: number;
  cas_required: boolean;
  rotation_period_seconds: number;
  grace_period_seconds: number;
}

export interface SecretVersionView {
  version: number;
  created_at: string | null;
  created_by: string;
  deleted_at: string | null;
  destroyed: boolean;
  /** During a rotation's overlap, the previous version stays valid until then. */
  valid_until: string | null;
  revoked_at: string | null;
  kek_version: number;
}

/** A read: the plaintext in `value` only when `revealed`, otherwise its masked rendering. */
export interface SecretValueView extends SecretMetadataView {
  value: string;
  revealed: boolean;
  version_details: SecretVersionView;
}

export interface SecretDescriptionView extends SecretMetadataView {
  /** Oldest first. */
  versions: SecretVersionView[];
}

export interface SecretRotationView extends SecretMetadataView {
  previous_version: number;
  /** Until then the previous version stays valid; null when it was revoked at once (no grace period). */
  previous_valid_until: string | null;
}

export interface SecretListingView {
  folder: string;
  environment: string;
  secrets: SecretMetadataView[];
  /** Folders directly below, each ending in "/". */
  folders: string[];
}

export interface SecretVersionsChangeView {
  path: string;
  environment: string;
  /** The versions this request changed; versions already in the requested state are left out. */
  versions: number[];
}

export interface EncryptionKeyStatusView {
  provider: string;
  current_version: number;
  min_decryption_version: number;
  versions: number[];
  data_keys_on_older_versions: number;
  data_keys_by_version: Record<string, number>;
}

export function secretMetadataViewOf(metadata: SecretMetadata | undefined): SecretMetadataView {
  if (!metadata) throw new GatewayException(GatewayErrorCode.Internal, 'internal error');
  return {
    path: metadata.path,
    environment: metadata.environment,
    type: secretTypeNameOf(metadata.type),
    version: Number(metadata.version),
    current_version: Number(metadata.currentVersion),
    labels: metadata.labels ?? {},
    facts: metadata.facts ?? {},
    created_at: isoOrNull(metadata.createdAt) ?? '',
    created_by: metadata.createdBy,
    updated_at: isoOrNull(metadata.updatedAt),
    next_rotation_at: isoOrNull(metadata.nextRotationAt),
    max_versions: metadata.maxVersions,
    cas_required: metadata.casRequired,
    rotation_period_seconds: Number(metadata.rotationPeriodSeconds),
    grace_period_seconds: Number(metadata.gracePeriodSeconds),
  };
}

export function secretVersionViewOf(version: SecretVersion | undefined): SecretVersionView {
  if (!version) throw new GatewayException(GatewayErrorCode.Internal, 'internal error');
  return {
    version: Number(version.version),
    created_at: isoOrNull(version.createdAt),
    created_by: version.createdBy,
    deleted_at: isoOrNull(version.deletedAt),
    destroyed: version.destroyed,
    valid_until: isoOrNull(version.validUntil),
    revoked_at: isoOrNull(version.revokedAt),
    kek_version: version.kekVersion,
  };
}

export function secretValueViewOf(response: GetSecretResponse): SecretValueView {
  return {
    ...secretMetadataViewOf(response.metadata),
    value: response.value,
    revealed: response.revealed,
    version_details: secretVersionViewOf(response.version),
  };
}

export function secretDescriptionViewOf(response: DescribeSecretResponse): SecretDescriptionView {
  return { ...secretMetadataViewOf(response.metadata), versions: response.versions.map(secretVersionViewOf) };
}

export function secretRotationViewOf(response: RotateSecretResponse): SecretRotationView {
  return {
    ...secretMetadataViewOf(response.metadata),
    previous_version: Number(response.previousVersion),
    previous_valid_until: isoOrNull(response.previousValidUntil),
  };
}

export function secretListingViewOf(folder: string, environment: string, response: ListSecretsResponse): SecretListingView {
  return { folder, environment, secrets: response.secrets.map(secretMetadataViewOf), folders: response.folders };
}

export function encryptionKeyStatusViewOf(status: EncryptionKeyStatus | undefined): EncryptionKeyStatusView {
  if (!status) throw new GatewayException(GatewayErrorCode.Internal, 'internal error');
  return {
    provider: status.provider,
    current_version: status.currentVersion,
    min_decryption_version: status.minDecryptionVersion,
    versions: status.versions,
    data_keys_on_older_versions: Number(status.dataKeysOnOlderVersions),
    data_keys_by_version: Object.fromEntries(Object.entries(status.dataKeysByVersion).map(([version, count]) => [version, Number(count)])),
  };
}

function isoOrNull(timestamp: Timestamp | undefined): string | null {
  return timestamp ? timestampDate(timestamp).toISOString() : null;
}
