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
  private readonly compiled = new Map<string, ValidateFunction>();

  /** Throws INVALID_VALUE naming `field` when `schema` is not a JSON Schema ajv can compile. */
  assertSchema(schema: unknown, field: string): void {
    if (typeof schema !== 'boolean' && (typeof schema !== 'object' || schema === null || Array.isArray(schema))) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, `${field} must be a JSON Schema (an object or a boolean)`, field);
    }
    try {
      compile(schema);
    } catch (error) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, `${field} is not a valid JSON Schema: ${(error as Error).message}`, field);
    }
  }

  problems(cacheKey: string, schema: unknown, value: unknown): ValidationProblem[] {
    try {
      let validate = this.compiled.get(cacheKey);
      if (!validate) {
        validate = compile(schema);
        if (this.compiled.size >= MAX_CACHED) this.compiled.delete(this.compiled.keys().next().value!);
        this.compiled.set(cacheKey, validate);
      }
      if (validate(value)) return [];
      return (validate.errors ?? []).map((error) => ({ path: error.instancePath, message: error.message ?? error.keyword }));
    } catch (error) {
      // A schema stored before today's checks, or one that only fails on some values (a $ref cycle recursing without
      // end): the value cannot be shown to conform, which is a problem with it here, not a server error.
      return [{ path: '', message: `could not be checked against the schema: ${error instanceof RangeError ? 'the schema recurses without end' : (error as Error).message}` }];
    }
  }
}

/**
 * One ajv instance per schema: an instance registers each schema under its $id, so two namespaces (or two versions of
 * one) using the same $id would make the second compile fail. Compiles happen once per settings version.
 */
function compile(schema: unknown): ValidateFunction {
  return new Ajv2020({ allErrors: true, strict: false }).compile(schema as object);
}
