import { describe, expect, it } from '@jest/globals';
import { formatPlan, planChanges, valueDifferences, type LiveValue, type NamespaceState } from './config-plan.js';

function stateOf(keys: Record<string, Record<string, LiveValue>>): NamespaceState {
  return new Map(Object.entries(keys).map(([key, environments]) => [key, new Map(Object.entries(environments))]));
}

describe(planChanges.name, () => {
  const live = new Map([
    [
      'acme/app',
      stateOf({
        model: { base: { value: { name: 'small', limit: 1 }, version: 4 }, production: { value: { name: 'large', limit: 1 }, version: 2 } },
        legacy: { base: { value: true, version: 1 } },
      }),
    ],
    ['acme/other', stateOf({ untouched: { base: { value: 1, version: 1 } } })],
  ]);

  it('creates, updates and deletes per key and environment, with the versions to check', () => {
    const plan = planChanges(
      [{ namespace: 'acme/app', file: 'acme/app.yaml', keys: { model: { production: { limit: 1, name: 'huge' }, base: { limit: 1, name: 'small' } }, top_p: { base: 0.9 } } }],
      live,
    );
    expect(plan.namespaces).toEqual(['acme/app']);
    expect(plan.create).toEqual([{ namespace: 'acme/app', key: 'top_p', environment: 'base', after: 0.9, expectedVersion: 0, differences: [{ pointer: '', after: 0.9 }] }]);
    expect(plan.update).toEqual([
      {
        namespace: 'acme/app',
        key: 'model',
        environment: 'production',
        before: { name: 'large', limit: 1 },
        after: { limit: 1, name: 'huge' },
        expectedVersion: 2,
        differences: [{ pointer: '/name', before: 'large', after: 'huge' }],
      },
    ]);
    expect(plan.delete.map(({ key, environment, expectedVersion }) => ({ key, environment, expectedVersion }))).toEqual([
      { key: 'legacy', environment: 'base', expectedVersion: 1 },
    ]);
    expect(plan.unchanged.map(({ key, environment }) => `${key}@${environment}`)).toEqual(['model@base']);
  });

  it('leaves namespaces without a file alone', () => {
    const plan = planChanges([{ namespace: 'acme/app', file: 'acme/app.yaml', keys: {} }], live);
    expect(plan.delete.every((change) => change.namespace === 'acme/app')).toBe(true);
    expect(plan.delete).toHaveLength(3);
  });

  it('prints + / ~ / - lines and a summary', () => {
    const plan = planChanges([{ namespace: 'acme/app', file: 'acme/app.yaml', keys: { model: { base: { name: 'small' } }, top_p: { base: 0.9 } } }], live);
    expect(formatPlan(plan)).toBe(
      [
        'Namespaces: acme/app',
        '  + acme/app/top_p [base] = 0.9',
        '  ~ acme/app/model [base]',
        '      /limit: 1 → (absent)',
        '  - acme/app/legacy [base] (was true)',
        '  - acme/app/model [production] (was {"name":"large","limit":1})',
        'Plan: 1 to create, 1 to change, 2 to delete, 0 unchanged.',
        '',
      ].join('\n'),
    );
    expect(formatPlan(planChanges([], live))).toBe('Namespaces: (none)\nNo changes. 0 unchanged.\n');
  });
});

describe(valueDifferences.name, () => {
  it('compares objects field by field in any order, arrays item by item, and replaces whatever changes shape', () => {
    expect(valueDifferences({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
    expect(valueDifferences({ a: [1, 2], 'x/y': 1 }, { a: [1, 3], 'x/y': 2, n: null })).toEqual([
      { pointer: '/a/1', before: 2, after: 3 },
      { pointer: '/n', after: null },
      { pointer: '/x~1y', before: 1, after: 2 },
    ]);
    expect(valueDifferences([1], [1, 2])).toEqual([{ pointer: '', before: [1], after: [1, 2] }]);
    expect(valueDifferences({ a: 1 }, 'a')).toEqual([{ pointer: '', before: { a: 1 }, after: 'a' }]);
  });
});
