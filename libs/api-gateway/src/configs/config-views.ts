import { toJson, type JsonValue } from '@bufbuild/protobuf';
import { timestampDate, ValueSchema } from '@bufbuild/protobuf/wkt';
import {
  ChangeType,
  Classification,
  type BulkApplyResponse,
  type ConfigEntry,
  type GetConfigHistoryResponse,
  type ValidateConfigsResponse,
  type WatchConfigsResponse,
} from '@llmops/contracts';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';

export interface ConfigView {
  namespace: string;
  key: string;
  environment: string;
  /** null for a tombstone (a version that deleted the key). */
  value: JsonValue;
  version: number;
  revision: number;
  classification: string;
  updated_by: string;
  updated_at: string;
  deleted: boolean;
  resolved_from?: string;
  /** With resolve_secrets: the `{"$secret": …}` references left in place, and why. */
  unresolved_secrets?: Array<{ path: string; reason: string; message: string }>;
}

export interface ConfigHistoryView {
  /** Newest first, tombstones included. */
  data: ConfigView[];
  /** Pass as before_version for the next page; null on the last page. */
  next_before_version: number | null;
}

export function configViewOf(entry: ConfigEntry | undefined): ConfigView {
  if (!entry) throw new GatewayException(GatewayErrorCode.Internal, 'internal error');
  return {
    namespace: entry.namespace,
    key: entry.key,
    environment: entry.environment,
    value: !entry.deleted && entry.value ? toJson(ValueSchema, entry.value) : null,
    version: Number(entry.version),
    revision: Number(entry.revision),
    classification: Classification[entry.classification].toLowerCase(),
    updated_by: entry.updatedBy,
    updated_at: entry.updatedAt ? timestampDate(entry.updatedAt).toISOString() : '',
    deleted: entry.deleted,
  };
}

export function configHistoryViewOf(response: GetConfigHistoryResponse): ConfigHistoryView {
  return {
    data: response.entries.map(configViewOf),
    next_before_version: response.nextBeforeVersion > 0n ? Number(response.nextBeforeVersion) : null,
  };
}

/** What `POST /api/v1/configs/bulk` answers: the version each operation wrote, in order (a tombstone for a deletion). */
export interface BulkApplyView {
  results: ConfigView[];
}

export function bulkApplyViewOf(response: BulkApplyResponse): BulkApplyView {
  return { results: response.entries.map(configViewOf) };
}

/** What a namespace holds, as `GET /api/v1/configs/<namespace>` answers when the path is not a key. */
export interface NamespaceListingView {
  namespace: string;
  environment: string;
  keys: Array<ConfigView & { resolved_from: string }>;
  namespaces: string[];
}

/** What `POST /api/v1/configs/<namespace>/validate` answers: one result per key, valid when every one is. */
export interface ValidationView {
  valid: boolean;
  results: Array<{
    key: string;
    valid: boolean;
    /** `path` is a JSON Pointer into the value, "" for the value itself. */
    problems: Array<{ path: string; message: string }>;
  }>;
}

export function validationViewOf(response: ValidateConfigsResponse): ValidationView {
  return {
    valid: response.valid,
    results: response.results.map((result) => ({
      key: result.key,
      valid: result.valid,
      problems: result.problems.map((problem) => ({ path: problem.path, message: problem.message })),
    })),
  };
}

/** One change a watch delivers: the `data` of its Server-Sent Event. */
export interface ConfigChangeView {
  revision: number;
  type: 'put' | 'delete';
  /** The version the change wrote; a deletion's is a tombstone ("deleted": true, "value": null). */
  entry: ConfigView;
}

export function configChangeViewOf(change: WatchConfigsResponse): ConfigChangeView {
  return {
    revision: Number(change.revision),
    type: change.type === ChangeType.DELETE ? 'delete' : 'put',
    entry: configViewOf(change.entry),
  };
}
