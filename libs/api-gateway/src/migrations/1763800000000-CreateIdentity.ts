import { sqlMigration } from '@llmops/platform-persistence';

export const GATEWAY_SCHEMA = 'api_gateway';

/** Users (seed 000), API keys (only a hash of the secret is kept) and refresh-token sessions (rotation, revocation). */
export const CreateIdentity1763800000000 = sqlMigration(
  'CreateIdentity1763800000000',
  [
    `CREATE TABLE api_gateway.users (
       id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
       email varchar(255) NOT NULL,
       password_hash varchar(255) NOT NULL,
       roles jsonb NOT NULL DEFAULT '[]',
       preferences jsonb NOT NULL DEFAULT '{}',
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now(),
       deleted_at timestamptz
     )`,
    `CREATE UNIQUE INDEX users_email ON api_gateway.users (lower(email)) WHERE deleted_at IS NULL`,
    `CREATE TABLE api_gateway.api_keys (
       id text PRIMARY KEY,
       name varchar(255) NOT NULL,
       owner_id uuid NOT NULL REFERENCES api_gateway.users(id),
       secret_hash text NOT NULL,
       roles jsonb NOT NULL,
       scopes jsonb,
       created_at timestamptz NOT NULL DEFAULT now(),
       expires_at timestamptz,
       last_used_at timestamptz,
       revoked_at timestamptz
     )`,
    `CREATE INDEX api_keys_owner ON api_gateway.api_keys (owner_id)`,
    `CREATE TABLE api_gateway.refresh_sessions (
       id uuid PRIMARY KEY,
       user_id uuid NOT NULL REFERENCES api_gateway.users(id),
       current_jti text NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       expires_at timestamptz NOT NULL,
       revoked_at timestamptz
     )`,
  ],
  [`DROP TABLE api_gateway.refresh_sessions`, `DROP TABLE api_gateway.api_keys`, `DROP TABLE api_gateway.users`],
);
