import { parseRoleBindings, parseRoles, type Role, type RoleBinding } from '@llmops/platform-auth';

/**
 * Bindings as stored, in the shape the principal carries them: roles held unconditionally in `roles`, bindings that
 * narrow or carry conditions in `role_bindings`.
 */
export interface StoredBindings {
  roles: Role[];
  bindings: RoleBinding[];
}

export function storedBindingsOf(bindings: readonly RoleBinding[]): StoredBindings {
  const roles = new Set<Role>();
  const conditional: RoleBinding[] = [];
  for (const binding of bindings) {
    if (!binding.environments && binding.tenantId === undefined && !binding.conditions) roles.add(binding.role);
    else conditional.push(binding);
  }
  return { roles: [...roles], bindings: conditional };
}

/** Every binding, the plain roles first, as `GET …/role-bindings` lists them. */
export function allBindingsOf(stored: StoredBindings): RoleBinding[] {
  return [...stored.roles.map((role): RoleBinding => ({ role })), ...stored.bindings];
}

/** The `roles` and `role_bindings` columns of a users or api_keys row, validated (a bad stored value is an error). */
export function storedBindingsOfRow(row: { roles: unknown; role_bindings: unknown }): StoredBindings {
  return { roles: parseRoles(jsonOf(row.roles)), bindings: parseRoleBindings(jsonOf(row.role_bindings)) };
}

/** jsonb comes back parsed from pg, but as text through some drivers (PGlite's socket); accept both. */
export function jsonOf<T = unknown>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}
