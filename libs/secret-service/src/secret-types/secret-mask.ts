import type { JsonObject, JsonValue } from './json-object-reader.js';

export const SECRET_MASK = '********';

const HINT_MIN_LENGTH = 16;
const HINT_MAX_CHARACTERS = 7;
const HINT_MAX_SHARE = 0.25;

/**
 * Fields kept verbatim on masking; every other field is masked, so a field nobody classified stays hidden.
 * A nested plan applies to an object-valued field.
 */
export interface MaskPlan {
  readonly [field: string]: 'keep' | MaskPlan;
}

/**
 * Masks one secret string. Long values keep a hint (first and last few characters) so an operator can tell
 * which key is stored; the hint never exceeds 7 characters or a quarter of the value.
 */
export function maskSecretString(secret: string): string {
  const characters = Array.from(secret);
  if (characters.length < HINT_MIN_LENGTH) {
    return SECRET_MASK;
  }
  const revealed = Math.min(HINT_MAX_CHARACTERS, Math.floor(characters.length * HINT_MAX_SHARE));
  const prefixLength = Math.min(3, Math.floor(revealed / 2));
  const suffixLength = revealed - prefixLength;
  return `${characters.slice(0, prefixLength).join('')}…${characters.slice(-suffixLength).join('')}`;
}

export function maskJsonObject(plan: MaskPlan, object: JsonObject): JsonObject {
  const masked: JsonObject = {};
  for (const [field, value] of Object.entries(object)) {
    // Own properties only: a field named like an Object.prototype member must not find a rule there.
    masked[field] = maskJsonField(Object.hasOwn(plan, field) ? plan[field] : undefined, value);
  }
  return masked;
}

function maskJsonField(rule: MaskPlan[string] | undefined, value: JsonValue): JsonValue {
  if (rule === 'keep') {
    return value;
  }
  if (rule !== undefined && isJsonObject(value)) {
    return maskJsonObject(rule, value);
  }
  return typeof value === 'string' ? maskSecretString(value) : SECRET_MASK;
}

function isJsonObject(value: JsonValue): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
