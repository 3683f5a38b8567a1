import { z } from 'zod';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { versionField, wholePath } from './config-requests.js';

/** Environment chains config-manager accepts: at least one environment, at most 16. */
export const MAX_ENVIRONMENTS = 16;
/** The most versions per key and environment a namespace may keep when it limits them. */
export const MAX_VERSIONS_LIMIT = 10_000;
const maxVersionsRange = `must be an integer from 1 to ${MAX_VERSIONS_LIMIT}`;

/** A JSON Schema is an object or a boolean; config-manager checks that it is a valid draft 2020-12 schema. */
const jsonSchema = z.union([z.record(z.string(), z.json()), z.boolean()], { error: 'must be a JSON Schema: an object, true or false' });

/** The whole settings: what the body leaves out is unset, as SetNamespaceSettings replaces them. */
export const putNamespaceSettingsBody = z.strictObject({
  schema: jsonSchema.optional(),
  key_schemas: z.record(z.string(), jsonSchema, { error: 'must be an object of JSON Schemas by key pattern' }).optional(),
  environments: z
    .array(z.string({ error: 'must be a string' }), { error: 'must be an array of environment names' })
    .min(1, { error: `must name 1 to ${MAX_ENVIRONMENTS} environments` })
    .max(MAX_ENVIRONMENTS, { error: `must name 1 to ${MAX_ENVIRONMENTS} environments` })
    .optional(),
  max_versions: z
    .number({ error: maxVersionsRange })
    .int({ error: maxVersionsRange })
    .min(1, { error: maxVersionsRange })
    .max(MAX_VERSIONS_LIMIT, { error: maxVersionsRange })
    .optional(),
  expected_version: versionField(0).optional(),
});

export type PutNamespaceSettingsBody = z.output<typeof putNamespaceSettingsBody>;

/** `acme/chatbot/` → `acme/chatbot`; the segment rules are config-manager's to enforce. */
export function namespaceOf(path: string | undefined): string {
  const namespace = wholePath(path);
  if (namespace === '') throw new GatewayException(GatewayErrorCode.ValidationError, 'path must be a namespace, e.g. acme/chatbot');
  return namespace;
}
