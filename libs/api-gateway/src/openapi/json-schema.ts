import type { ApiBody } from '@nestjs/swagger';
import { z } from 'zod';

type SchemaObject = NonNullable<Extract<Parameters<typeof ApiBody>[0], { schema?: unknown }>['schema']>;

/** The OpenAPI schema of a zod body schema, so the document and the validation can never disagree. */
export function jsonSchemaOf(schema: z.ZodType): SchemaObject {
  const { $schema: _ignored, ...jsonSchema } = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as Record<string, unknown>;
  return jsonSchema as SchemaObject;
}
