import { describe, expect, it } from '@jest/globals';
import { bindingProblem } from './identity-tenancy.js';

describe(bindingProblem.name, () => {
  it('lets a platform-wide user hold any binding', () => {
    expect(bindingProblem(null, { role: 'global-admin' })).toBeUndefined();
    expect(bindingProblem(null, { role: 'tenant-admin', tenantId: 'acme' })).toBeUndefined();
  });

  it("keeps a tenant's user to roles and bindings of its tenant", () => {
    expect(bindingProblem('acme', { role: 'tenant-admin' })).toBeUndefined();
    expect(bindingProblem('acme', { role: 'developer', tenantId: 'acme' })).toBeUndefined();
    expect(bindingProblem('acme', { role: 'global-admin' })).toEqual({
      field: 'role',
      message: 'global-admin acts in every tenant, so a user of tenant acme (or its API key) cannot hold it',
    });
    expect(bindingProblem('acme', { role: 'viewer', tenantId: 'globex' })).toEqual({
      field: 'tenant_id',
      message: 'must be acme, the tenant of the user, or be omitted',
    });
  });
});
