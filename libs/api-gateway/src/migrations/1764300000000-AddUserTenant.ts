import { sqlMigration } from '@llmops/platform-persistence';

/**
 * The tenant a user belongs to (NULL: a platform-wide user, whom only global admins manage); the user's API keys act
 * in it too. It is set when the user is created and never changes. The index serves a tenant admin's user list.
 */
export const AddUserTenant1764300000000 = sqlMigration(
  'AddUserTenant1764300000000',
  [
    `ALTER TABLE api_gateway.users
       ADD COLUMN tenant_id varchar(256) CONSTRAINT users_tenant_id_format CHECK (tenant_id ~ '^[A-Za-z0-9_.-]+$')`,
    `CREATE INDEX users_tenant ON api_gateway.users (tenant_id, id) WHERE deleted_at IS NULL`,
  ],
  [`DROP INDEX api_gateway.users_tenant`, `ALTER TABLE api_gateway.users DROP COLUMN tenant_id`],
);
