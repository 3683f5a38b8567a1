import type { ApiBody } from '@nestjs/swagger';
import { z } from 'zod';

type SchemaObject = NonNullable<Extract<Parameters<typeof ApiBody>[0], { schema?: unknown }>['schema']>;

/**
 * The OpenAPI schema of a zod body schema, so the document and the validation can never disagree. OpenAPI 3.0 has
 * no local `definitions`, so recursive parts (any JSON value) are documented as `{}`, which accepts any value.
 */
export function jsonSchemaOf(schema: z.ZodType): SchemaObject {
  const generated = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as Record<string, unknown>;
  const { $schema: _schema, definitions: _definitions, $defs: _defs, ...jsonSchema } = generated;
  return inlineLocalRefs(jsonSchema) as SchemaObject;
}

function inlineLocalRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(inlineLocalRefs);
  if (node === null || typeof node !== 'object') return node;
  const record = node as Record<string, unknown>;
  if (typeof record.$ref === 'string' && /^#\/(definitions|\$defs)\//.test(record.$ref)) return {};
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, inlineLocalRefs(value)]));
}
