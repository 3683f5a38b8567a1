/**
 * RFC 8785 JSON Canonicalization Scheme: object keys sorted by UTF-16 code units, no whitespace, ECMAScript number and
 * string serialization. Values JSON would silently drop or mangle (undefined, functions, symbols, bigint, non-finite
 * numbers, Map, Set, cycles) throw a TypeError instead, so two different inputs cannot canonicalize alike.
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, '', []);
}

function serialize(input: unknown, key: string, ancestors: object[]): string {
  const value = hasToJson(input) ? input.toJSON(key) : input;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot canonicalize the number ${value}${at(key)}`);
      return JSON.stringify(value); // ECMAScript Number::toString, with -0 as 0
    case 'object':
      if (value === null) return 'null';
      if (value instanceof Map || value instanceof Set) throw new TypeError(`cannot canonicalize a ${value.constructor.name}${at(key)}`);
      if (ancestors.includes(value)) throw new TypeError(`cannot canonicalize a circular structure${at(key)}`);
      return Array.isArray(value) ? serializeArray(value, [...ancestors, value]) : serializeObject(value, [...ancestors, value]);
    default:
      throw new TypeError(`cannot canonicalize a value of type ${typeof value}${at(key)}`);
  }
}

function serializeArray(array: unknown[], ancestors: object[]): string {
  // Index loop, not map(): map skips holes, which must fail like undefined.
  const items: string[] = [];
  for (let i = 0; i < array.length; i++) items.push(serialize(array[i], String(i), ancestors));
  return `[${items.join(',')}]`;
}

function serializeObject(object: object, ancestors: object[]): string {
  const entries = Object.entries(object);
  // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 asks for.
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${serialize(item, key, ancestors)}`).join(',')}}`;
}

function hasToJson(value: unknown): value is { toJSON(key: string): unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

function at(key: string): string {
  return key === '' ? '' : ` at key ${JSON.stringify(key)}`;
}
