import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { ConfigException, ConfigExceptionCode } from '../configs/exceptions/config.exception.js';

export interface ValidationProblem {
  /** JSON Pointer into the value; "" for the value itself. */
  path: string;
  message: string;
}

const MAX_CACHED = 1_000;

/**
 * JSON Schema (draft 2020-12) checks with ajv. Schemas are compiled once per namespace settings version: settings
 * rows never change in place, so a (namespace, version, pattern) key always means the same schema.
 */
export class SchemaValidator {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private readonly compiled = new Map<string, ValidateFunction>();

  /** Throws INVALID_VALUE naming `field` when `schema` is not a JSON Schema ajv can compile. */
  assertSchema(schema: unknown, field: string): void {
    if (typeof schema !== 'boolean' && (typeof schema !== 'object' || schema === null || Array.isArray(schema))) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, `${field} must be a JSON Schema (an object or a boolean)`, field);
    }
    try {
      this.ajv.compile(schema as object);
    } catch (error) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, `${field} is not a valid JSON Schema: ${(error as Error).message}`, field);
    }
  }

  problems(cacheKey: string, schema: unknown, value: unknown): ValidationProblem[] {
    let validate = this.compiled.get(cacheKey);
    if (!validate) {
      validate = this.ajv.compile(schema as object);
      if (this.compiled.size >= MAX_CACHED) this.compiled.delete(this.compiled.keys().next().value!);
      this.compiled.set(cacheKey, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map((error) => ({ path: error.instancePath, message: error.message ?? error.keyword }));
  }
}
