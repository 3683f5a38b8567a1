import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import type { DescribeSecretResponse, GetSecretResponse, ListSecretsResponse, SetSecretResponse } from '@llmops/contracts';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';

/** Every Vault answer, leases and wrapping included though KV v2 uses neither. */
export interface VaultEnvelope<T> {
  request_id: string;
  lease_id: '';
  renewable: false;
  lease_duration: 0;
  data: T;
  wrap_info: null;
  warnings: null;
  auth: null;
}

/** One version's state as KV v2 describes it; deletion_time is "" while the version is not deleted. */
export interface VaultVersionMetadata {
  created_time: string;
  custom_metadata: Record<string, string> | null;
  deletion_time: string;
  destroyed: boolean;
  version: number;
}

export interface VaultSecretData {
  data: JsonObject;
  metadata: VaultVersionMetadata;
}

export interface VaultSecretMetadata {
  cas_required: boolean;
  created_time: string;
  current_version: number;
  custom_metadata: Record<string, string> | null;
  delete_version_after: string;
  max_versions: number;
  oldest_version: number;
  updated_time: string;
  versions: Record<string, { created_time: string; deletion_time: string; destroyed: boolean }>;
}

export interface VaultErrorBody {
  errors: string[];
}

export function vaultEnvelope<T>(requestId: string, data: T): VaultEnvelope<T> {
  return { request_id: requestId, lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null };
}

/** What a Vault write stores: the JSON of its data map, as a generic secret. */
export function vaultValueOf(data: JsonObject): string {
  return JSON.stringify(data);
}

/** A stored JSON object is the data map (a Vault write, or a structured type); any other value is `{"value": …}`. */
export function vaultDataOf(value: string): JsonObject {
  try {
    const parsed = JSON.parse(value) as JsonValue;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
  } catch {
    // Not JSON: a plain value, returned under the key "value".
  }
  return { value };
}

export function vaultReadOf(response: GetSecretResponse): VaultSecretData {
  const version = required(response.version);
  return {
    data: vaultDataOf(response.value),
    metadata: {
      created_time: vaultTime(version.createdAt),
      custom_metadata: customMetadataOf(response.metadata?.labels),
      deletion_time: vaultTime(version.deletedAt),
      destroyed: version.destroyed,
      version: Number(version.version),
    },
  };
}

export function vaultWriteOf(response: SetSecretResponse): VaultVersionMetadata {
  const metadata = required(response.metadata);
  return {
    // A write stamps the secret's updated_at in the same transaction as the version's created_at: the same instant.
    created_time: vaultTime(metadata.updatedAt),
    custom_metadata: customMetadataOf(metadata.labels),
    deletion_time: '',
    destroyed: false,
    version: Number(metadata.version),
  };
}

export function vaultMetadataOf(response: DescribeSecretResponse): VaultSecretMetadata {
  const metadata = required(response.metadata);
  return {
    cas_required: metadata.casRequired,
    created_time: vaultTime(metadata.createdAt),
    current_version: Number(metadata.currentVersion),
    custom_metadata: customMetadataOf(metadata.labels),
    delete_version_after: '0s',
    max_versions: metadata.maxVersions,
    oldest_version: Number(response.versions[0]?.version ?? 0),
    updated_time: vaultTime(metadata.updatedAt),
    versions: Object.fromEntries(
      response.versions.map((version) => [
        String(version.version),
        { created_time: vaultTime(version.createdAt), deletion_time: vaultTime(version.deletedAt), destroyed: version.destroyed },
      ]),
    ),
  };
}

/** LIST's keys: the secrets' last segments and the folders below (ending in "/"), sorted as Vault sorts them. */
export function vaultKeysOf(response: ListSecretsResponse): { keys: string[] } {
  const names = response.secrets.map((secret) => secret.path.split('/').at(-1)!);
  return { keys: [...names, ...response.folders].sort() };
}

/** Vault's custom_metadata holds strings; labels that are not are shown as their JSON. */
function customMetadataOf(labels: JsonObject | undefined): Record<string, string> | null {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return null;
  return Object.fromEntries(entries.map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
}

/** RFC 3339 as Vault writes it; "" for a time that is not set. */
function vaultTime(timestamp: Timestamp | undefined): string {
  return timestamp ? timestampDate(timestamp).toISOString() : '';
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new GatewayException(GatewayErrorCode.Internal, 'internal error');
  return value;
}
