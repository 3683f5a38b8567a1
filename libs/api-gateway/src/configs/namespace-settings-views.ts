import { toJson, type JsonValue } from '@bufbuild/protobuf';
import { timestampDate, ValueSchema } from '@bufbuild/protobuf/wkt';
import type { NamespaceSettings } from '@llmops/contracts';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';

/** The settings that apply to a namespace; the nulls and version 0 mean none apply and the defaults hold. */
export interface NamespaceSettingsView {
  namespace: string;
  /** The namespace whose settings these are (the one asked for or an ancestor); null for the defaults. */
  defined_at: string | null;
  /** null accepts any value. */
  schema: JsonValue | null;
  key_schemas: Record<string, JsonValue>;
  /** Least to most specific; empty means base < development < staging < production. */
  environments: string[];
  /** Versions kept per key and environment; null keeps all. */
  max_versions: number | null;
  version: number;
  updated_by: string | null;
  updated_at: string | null;
}

/** `definedAt` is config-manager's answer: '' when no namespace defines settings for `namespace`. */
export function namespaceSettingsViewOf(namespace: string, definedAt: string, settings: NamespaceSettings | undefined): NamespaceSettingsView {
  if (!settings) throw new GatewayException(GatewayErrorCode.Internal, 'internal error');
  return {
    namespace,
    defined_at: definedAt === '' ? null : definedAt,
    schema: settings.schema ? toJson(ValueSchema, settings.schema) : null,
    key_schemas: Object.fromEntries(Object.entries(settings.keySchemas).map(([pattern, schema]) => [pattern, toJson(ValueSchema, schema)])),
    environments: [...settings.environments],
    max_versions: settings.maxVersions === 0 ? null : settings.maxVersions,
    version: Number(settings.version),
    updated_by: settings.updatedBy === '' ? null : settings.updatedBy,
    updated_at: settings.updatedAt ? timestampDate(settings.updatedAt).toISOString() : null,
  };
}
