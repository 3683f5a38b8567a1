import { describe, expect, it } from '@jest/globals';
import { canonicalJson } from './canonical-json.js';

describe(canonicalJson.name, () => {
  it('sorts keys by UTF-16 code units (RFC 8785 §3.2.3)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('serializes the RFC 8785 §3.2.2 example', () => {
    // Parsed from the RFC's JSON text: 333333333.33333329 has more digits than a double keeps, which is the point.
    const input: unknown = JSON.parse(String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`);
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it.each([
    [0, '0'],
    [-0, '0'],
    [0.1, '0.1'],
    [1e21, '1e+21'],
    [1e-7, '1e-7'],
    [0.000001, '0.000001'],
    [999999999999999900000, '999999999999999900000'],
    [9007199254740992, '9007199254740992'],
    [295147905179352830000, '295147905179352830000'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [-1.5e-9, '-1.5e-9'],
    [333333333.3333332, '333333333.3333332'],
  ])('writes the number %p as %s (RFC 8785 Appendix B)', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('escapes control characters the JSON.stringify way and leaves U+2028 and U+2029 alone', () => {
    expect(canonicalJson('\u0000\u0001\b\t\n\u000b\f\r\u001f "\\ \u007f\u2028\u2029')).toBe(
      '"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f \\"\\\\ \u007f\u2028\u2029"',
    );
  });

  it('sorts nested objects and keeps array order, without whitespace', () => {
    const value = { b: [3, { z: 1, a: [] }, 'x'], a: { c: {}, b: null } };
    expect(canonicalJson(value)).toBe('{"a":{"b":null,"c":{}},"b":[3,{"a":[],"z":1},"x"]}');
  });

  it('uses toJSON like JSON.stringify, so dates become ISO strings', () => {
    expect(canonicalJson({ at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)) })).toBe('{"at":"2024-01-02T03:04:05.006Z"}');
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { k: 1 };
    expect(canonicalJson([shared, { shared }])).toBe('[{"k":1},{"shared":{"k":1}}]');
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', [Number.NEGATIVE_INFINITY]],
    ['undefined', undefined],
    ['an undefined property', { a: undefined }],
    ['an undefined array item', [1, undefined]],
    ['an array hole', [1, , 3]], // eslint-disable-line no-sparse-arrays
    ['a bigint', { n: 1n }],
    ['a function', { f: () => 1 }],
    ['a symbol', Symbol('s')],
    ['a Map', new Map([['a', 1]])],
    ['a Set', { s: new Set([1]) }],
  ])('throws a TypeError on %s', (_, value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
  });

  it('throws a TypeError on a cycle, naming where', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(new TypeError('cannot canonicalize a circular structure at key "self"'));
  });
});
