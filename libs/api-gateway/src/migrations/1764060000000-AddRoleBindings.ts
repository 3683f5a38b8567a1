import { sqlMigration } from '@llmops/platform-persistence';

/**
 * Role bindings with ABAC conditions for users and API keys (`roles` keeps the unconditional ones), user disabling,
 * and a per-user authorization version: every change of roles, bindings or account state bumps it, and an access
 * token stamped with an older version is refused at the next request.
 */
export const AddRoleBindings1764060000000 = sqlMigration(
  'AddRoleBindings1764060000000',
  [
    `ALTER TABLE api_gateway.users
       ADD COLUMN role_bindings jsonb NOT NULL DEFAULT '[]',
       ADD COLUMN authz_version integer NOT NULL DEFAULT 1,
       ADD COLUMN disabled_at timestamptz`,
    `ALTER TABLE api_gateway.api_keys ADD COLUMN role_bindings jsonb NOT NULL DEFAULT '[]'`,
    `CREATE INDEX refresh_sessions_user ON api_gateway.refresh_sessions (user_id) WHERE revoked_at IS NULL`,
  ],
  [
    `DROP INDEX api_gateway.refresh_sessions_user`,
    `ALTER TABLE api_gateway.api_keys DROP COLUMN role_bindings`,
    `ALTER TABLE api_gateway.users DROP COLUMN disabled_at, DROP COLUMN authz_version, DROP COLUMN role_bindings`,
  ],
);
