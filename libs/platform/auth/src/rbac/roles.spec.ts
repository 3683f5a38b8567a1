import { describe, expect, it } from '@jest/globals';
import { AuthExceptionCode } from '../exceptions/auth.exception.js';
import { isRole, parseRoles } from './roles.js';

describe(parseRoles.name, () => {
  it('accepts known roles and drops duplicates', () => {
    expect(parseRoles(['viewer', 'developer', 'viewer'])).toEqual(['viewer', 'developer']);
    expect(isRole('global-admin')).toBe(true);
  });

  it('rejects unknown roles and non-lists', () => {
    expect(() => parseRoles(['root'])).toThrow(expect.objectContaining({ code: AuthExceptionCode.PrincipalInvalid }));
    expect(() => parseRoles('viewer')).toThrow('roles must be a list');
  });
});
