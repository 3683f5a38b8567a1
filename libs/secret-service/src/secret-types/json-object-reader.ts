import { invalidValue } from './secret-type-definition.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [field: string]: JsonValue;
}

const RFC3339_PATTERN = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses a structured secret value; JSON.parse's own message quotes the input, so it is never passed on. */
export function parseJsonObject(value: string, shape: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw invalidValue('value', `value is not valid JSON; expected a JSON object ${shape}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidValue('value', `value must be a JSON object ${shape}`);
  }
  return parsed as JsonObject;
}

/** JSON with object keys sorted at every depth, so equal values are stored as equal bytes. */
export function canonicalJson(value: JsonValue): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: JsonValue): JsonValue {
  if (Array.isArray(value)) {
    return value.map(sortKeys);
  }
  if (typeof value === 'object' && value !== null) {
    const sorted: JsonObject = {};
    for (const field of Object.keys(value).sort()) {
      sorted[field] = sortKeys(value[field]);
    }
    return sorted;
  }
  return value;
}

export interface StringRules {
  noWhitespace?: boolean;
  pattern?: RegExp;
  /** Completes "<field> must be …" when `pattern` does not match, e.g. "a GUID". */
  patternDescription?: string;
}

/**
 * Reads typed fields out of a parsed JSON object. Every error names the field by its path (e.g.
 * `value.private_key`) and says what was expected, never what was found. Null counts as absent.
 */
export class JsonObjectReader {
  constructor(
    private readonly object: JsonObject,
    private readonly prefix = 'value',
  ) {}

  path(field: string): string {
    return `${this.prefix}.${field}`;
  }

  /** Unknown fields are refused: a field nobody classified could carry a secret into an unmasked place. */
  assertKnownFields(allowed: readonly string[]): void {
    for (const field of Object.keys(this.object)) {
      if (!allowed.includes(field)) {
        throw invalidValue(this.path(field), `${this.path(field)} is not a known field; allowed: ${allowed.join(', ')}`);
      }
    }
  }

  has(field: string): boolean {
    return this.object[field] !== undefined && this.object[field] !== null;
  }

  requiredString(field: string, rules: StringRules = {}): string {
    const value = this.optionalString(field, rules);
    if (value === undefined) {
      throw invalidValue(this.path(field), `${this.path(field)} is required`);
    }
    return value;
  }

  optionalString(field: string, rules: StringRules = {}): string | undefined {
    if (!this.has(field)) {
      return undefined;
    }
    const value = this.object[field];
    const path = this.path(field);
    if (typeof value !== 'string') {
      throw invalidValue(path, `${path} must be a string`);
    }
    if (value.trim() === '') {
      throw invalidValue(path, `${path} must not be empty`);
    }
    if (rules.noWhitespace && /\s/.test(value)) {
      throw invalidValue(path, `${path} must not contain whitespace`);
    }
    if (rules.pattern && !rules.pattern.test(value)) {
      throw invalidValue(path, `${path} must be ${rules.patternDescription ?? `in the form ${rules.pattern.source}`}`);
    }
    return value;
  }

  requiredOneOf<T extends string>(field: string, allowed: readonly T[]): T {
    const value = this.requiredString(field);
    if (!(allowed as readonly string[]).includes(value)) {
      throw invalidValue(this.path(field), `${this.path(field)} must be one of: ${allowed.join(', ')}`);
    }
    return value as T;
  }

  optionalOneOf<T extends string>(field: string, allowed: readonly T[]): T | undefined {
    return this.has(field) ? this.requiredOneOf(field, allowed) : undefined;
  }

  requiredInteger(field: string, min: number, max: number): number {
    const path = this.path(field);
    if (!this.has(field)) {
      throw invalidValue(path, `${path} is required`);
    }
    const value = this.object[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw invalidValue(path, `${path} must be an integer from ${min} to ${max}`);
    }
    return value;
  }

  optionalStringArray(field: string): string[] | undefined {
    if (!this.has(field)) {
      return undefined;
    }
    const value = this.object[field];
    const path = this.path(field);
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item.trim() === '' || /\s/.test(item))) {
      throw invalidValue(path, `${path} must be an array of non-empty strings without whitespace`);
    }
    return value as string[];
  }

  /** An http(s) URL without user info, so it is safe to show as a fact. */
  optionalUrl(field: string): string | undefined {
    const value = this.optionalString(field, { noWhitespace: true });
    if (value === undefined) {
      return undefined;
    }
    const path = this.path(field);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw invalidValue(path, `${path} must be an absolute http(s) URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw invalidValue(path, `${path} must be an absolute http(s) URL`);
    }
    if (url.username !== '' || url.password !== '') {
      throw invalidValue(path, `${path} must not contain credentials`);
    }
    return value;
  }

  /** An RFC 3339 date-time with an explicit offset, returned as given. */
  optionalRfc3339(field: string): { text: string; instant: Date } | undefined {
    const value = this.optionalString(field);
    if (value === undefined) {
      return undefined;
    }
    const match = RFC3339_PATTERN.exec(value);
    const instant = new Date(value);
    if (!match || Number.isNaN(instant.getTime()) || !isCalendarDate(match)) {
      throw invalidValue(this.path(field), `${this.path(field)} must be an RFC 3339 date-time, e.g. 2030-01-31T12:00:00Z`);
    }
    return { text: value, instant };
  }

  requiredObject(field: string): JsonObjectReader {
    const path = this.path(field);
    if (!this.has(field)) {
      throw invalidValue(path, `${path} is required`);
    }
    const value = this.object[field];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw invalidValue(path, `${path} must be a JSON object`);
    }
    return new JsonObjectReader(value, path);
  }
}

/** `new Date` rolls 2024-02-30 over to March; RFC 3339 says it is not a date. */
function isCalendarDate(match: RegExpExecArray): boolean {
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  return calendar.getUTCMonth() === month - 1 && calendar.getUTCDate() === day && hour < 24 && minute < 60 && second < 61;
}
