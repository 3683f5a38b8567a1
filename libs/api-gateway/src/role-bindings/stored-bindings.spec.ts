import { describe, expect, it } from '@jest/globals';
import { AuthExceptionCode, type RoleBinding } from '@llmops/platform-auth';
import { allBindingsOf, storedBindingsOf, storedBindingsOfRow } from './stored-bindings.js';

describe('stored role bindings', () => {
  const conditional: RoleBinding = { role: 'developer', conditions: { ipAllowlist: ['10.0.0.0/8'] } };
  const narrowed: RoleBinding = { role: 'operator', environments: ['staging'] };

  it('keeps plain roles in roles and the rest as bindings, and lists them back plain roles first', () => {
    const stored = storedBindingsOf([conditional, { role: 'viewer' }, narrowed, { role: 'viewer' }]);
    expect(stored).toEqual({ roles: ['viewer'], bindings: [conditional, narrowed] });
    expect(allBindingsOf(stored)).toEqual([{ role: 'viewer' }, conditional, narrowed]);
  });

  it('reads jsonb as objects or as text, and refuses a stored binding that does not validate', () => {
    expect(storedBindingsOfRow({ roles: '["viewer"]', role_bindings: JSON.stringify([narrowed]) })).toEqual({ roles: ['viewer'], bindings: [narrowed] });
    expect(() => storedBindingsOfRow({ roles: [], role_bindings: [{ role: 'viewer', conditions: { ipAllowlist: ['nope'] } }] })).toThrow(
      expect.objectContaining({ code: AuthExceptionCode.PrincipalInvalid }),
    );
  });
});
