import { describe, expect, it } from '@jest/globals';
import { maskJsonObject, maskSecretString, SECRET_MASK } from './secret-mask.js';

describe('maskSecretString', () => {
  it('hides values shorter than 16 characters completely', () => {
    expect(maskSecretString('hunter2')).toBe(SECRET_MASK);
    expect(maskSecretString('fifteen-chars!!')).toBe(SECRET_MASK);
  });

  it('keeps the first 3 and last 4 characters of long values', () => {
    expect(maskSecretString('sk-proj-4fGh8JkLmNoPqRsTuVwX9xQz')).toBe('sk-…9xQz');
  });

  it('reveals at most a quarter of a value between 16 and 27 characters', () => {
    expect(maskSecretString('abcdefghijklmnop')).toBe('ab…op');
    expect(maskSecretString('abcdefghijklmnopqrst')).toBe('ab…rst');
  });

  it('never reveals more than 7 characters or 25% of any value', () => {
    for (let length = 1; length <= 200; length++) {
      const masked = maskSecretString('x'.repeat(length));
      const revealed = masked === SECRET_MASK ? 0 : Array.from(masked).length - 1;
      expect(revealed).toBeLessThanOrEqual(Math.min(7, Math.floor(length / 4)));
    }
  });
});

describe('maskJsonObject', () => {
  it('keeps fields the plan keeps and masks every other field, including unclassified ones', () => {
    const masked = maskJsonObject(
      { host: 'keep', port: 'keep' },
      { host: 'db.internal', port: 5432, password: 'correct horse battery staple', extra: 42 },
    );

    expect(masked).toEqual({ host: 'db.internal', port: 5432, password: 'cor…aple', extra: SECRET_MASK });
  });

  it('applies a nested plan to an object field and masks an object field without one', () => {
    const masked = maskJsonObject(
      { account: { email: 'keep' } },
      { account: { email: 'a@example.test', key: 'short' }, other: { key: 'short' } },
    );

    expect(masked).toEqual({ account: { email: 'a@example.test', key: SECRET_MASK }, other: SECRET_MASK });
  });

  it('masks fields named like Object.prototype members', () => {
    expect(maskJsonObject({}, { constructor: { key: 'short' }, toString: 'short' })).toEqual({
      constructor: SECRET_MASK,
      toString: SECRET_MASK,
    });
  });
});
