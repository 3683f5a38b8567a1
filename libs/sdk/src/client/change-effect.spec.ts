import { describe, expect, it } from '@jest/globals';
import { resolutionOrder } from '../http/config-api.js';
import { changeEffectOf } from './change-effect.js';

const production = resolutionOrder(['base', 'development', 'staging', 'production'], 'production');

describe(changeEffectOf.name, () => {
  it('ignores a write in a less specific environment than the one the value resolves from', () => {
    expect(changeEffectOf(production, { environment: 'production', version: 3 }, { environment: 'base', version: 9, deleted: false }, false)).toBe('ignore');
    expect(changeEffectOf(production, { environment: 'production', version: 3 }, { environment: 'base', version: 9, deleted: true }, false)).toBe('ignore');
  });

  it('ignores environments outside the chain', () => {
    expect(changeEffectOf(production, undefined, { environment: 'qa', version: 1, deleted: false }, false)).toBe('ignore');
  });

  it('applies a newer version in the same environment and ignores one already held', () => {
    expect(changeEffectOf(production, { environment: 'staging', version: 2 }, { environment: 'staging', version: 3, deleted: false }, false)).toBe('apply');
    expect(changeEffectOf(production, { environment: 'staging', version: 3 }, { environment: 'staging', version: 3, deleted: false }, true)).toBe('ignore');
  });

  it('reads the key again when its own environment deletes it: a less specific value the client never loaded shows through', () => {
    expect(changeEffectOf(production, { environment: 'production', version: 2 }, { environment: 'production', version: 3, deleted: true }, false)).toBe('refetch');
  });

  it('applies a more specific write, unless the initial load may already hold what came after it', () => {
    expect(changeEffectOf(production, { environment: 'base', version: 2 }, { environment: 'production', version: 1, deleted: false }, false)).toBe('apply');
    expect(changeEffectOf(production, { environment: 'base', version: 2 }, { environment: 'production', version: 1, deleted: false }, true)).toBe('refetch');
    expect(changeEffectOf(production, undefined, { environment: 'base', version: 1, deleted: false }, false)).toBe('apply');
    expect(changeEffectOf(production, undefined, { environment: 'base', version: 1, deleted: true }, false)).toBe('ignore');
  });

  it('reads the key again whenever the chain is unknown', () => {
    expect(changeEffectOf(undefined, { environment: 'production', version: 3 }, { environment: 'base', version: 1, deleted: false }, false)).toBe('refetch');
  });
});

describe(resolutionOrder.name, () => {
  it('walks the chain from the environment down, and puts an unknown environment over the root', () => {
    expect(production).toEqual(['production', 'staging', 'development', 'base']);
    expect(resolutionOrder(['base', 'dev', 'prod'], 'qa')).toEqual(['qa', 'base']);
    expect(resolutionOrder(['base', 'dev', 'prod'], 'base')).toEqual(['base']);
  });
});
