import { describe, expect, it } from '@jest/globals';
import { pickVariant } from './variant-selection.js';

const abTest = [
  { version: '1.0.0', weight: 90 },
  { version: '2.0.0', weight: 10 },
];

describe(pickVariant.name, () => {
  it('gives a subject the same variant every time', () => {
    const first = pickVariant(abTest, 'acme/support#production', 'user-42');
    for (let round = 0; round < 20; round++) expect(pickVariant(abTest, 'acme/support#production', 'user-42')).toBe(first);
  });

  it('splits subjects in proportion to the weights', () => {
    const picks = Array.from({ length: 10_000 }, (_, index) => pickVariant(abTest, 'acme/support#production', `user-${index}`));
    const share = picks.filter((pick) => pick === 1).length / picks.length;
    expect(share).toBeGreaterThan(0.08);
    expect(share).toBeLessThan(0.12);
  });

  it('buckets independently per label, so one experiment does not decide another', () => {
    const even = [
      { version: '1.0.0', weight: 1 },
      { version: '2.0.0', weight: 1 },
    ];
    const subjects = Array.from({ length: 1_000 }, (_, index) => `s-${index}`);
    const agreeing = subjects.filter((subject) => pickVariant(even, 'p#a', subject) === pickVariant(even, 'p#b', subject)).length;
    expect(agreeing).toBeGreaterThan(400);
    expect(agreeing).toBeLessThan(600);
  });

  it('picks at random without a subject, still by weight, and always the only variant of a plain label', () => {
    const picks = Array.from({ length: 2_000 }, () => pickVariant(abTest, 'p#production'));
    expect(new Set(picks)).toEqual(new Set([0, 1]));
    expect(picks.filter((pick) => pick === 0).length).toBeGreaterThan(1_600);
    expect(pickVariant([{ version: '1.0.0', weight: 5 }], 'p#production', 'anyone')).toBe(0);
  });
});
