import { outboxMigrationSql } from '@llmops/platform-messaging';
import { sqlMigration } from '@llmops/platform-persistence';

export const SECRET_SERVICE_SCHEMA = 'secret_service';
const outbox = outboxMigrationSql(SECRET_SERVICE_SCHEMA);

export const CreateSecrets1764000000000 = sqlMigration(
  'CreateSecrets1764000000000',
  [
    `CREATE TABLE secret_service.secrets (
       id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
       environment text NOT NULL,
       path text NOT NULL,
       type text NOT NULL,
       labels jsonb NOT NULL DEFAULT '{}',
       current_version integer NOT NULL DEFAULT 0,
       max_versions integer NOT NULL DEFAULT 0 CHECK (max_versions >= 0),
       cas_required boolean NOT NULL DEFAULT false,
       rotation_period_seconds integer CHECK (rotation_period_seconds > 0),
       grace_period_seconds integer CHECK (grace_period_seconds >= 0),
       next_rotation_at timestamptz,
       created_by text NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now()
     )`,
    `CREATE UNIQUE INDEX secrets_environment_path ON secret_service.secrets (environment, path text_pattern_ops)`,
    `CREATE INDEX secrets_next_rotation ON secret_service.secrets (next_rotation_at) WHERE next_rotation_at IS NOT NULL`,
    // Ciphertext, nonce, tag and wrapped data key are NULL once a version is destroyed; its metadata stays.
    `CREATE TABLE secret_service.secret_versions (
       secret_id uuid NOT NULL REFERENCES secret_service.secrets (id) ON DELETE CASCADE,
       version integer NOT NULL CHECK (version > 0),
       ciphertext bytea,
       nonce bytea,
       auth_tag bytea,
       wrapped_dek bytea,
       kek_version integer,
       masked_value text NOT NULL,
       facts jsonb NOT NULL DEFAULT '{}',
       created_by text NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       deleted_at timestamptz,
       destroyed_at timestamptz,
       valid_until timestamptz,
       revoked_at timestamptz,
       PRIMARY KEY (secret_id, version),
       CHECK ((destroyed_at IS NULL) = (ciphertext IS NOT NULL AND wrapped_dek IS NOT NULL AND kek_version IS NOT NULL))
     )`,
    // The rotation scheduler finds overlaps that have ended and are not yet revoked.
    `CREATE INDEX secret_versions_overlap_end ON secret_service.secret_versions (valid_until) WHERE valid_until IS NOT NULL AND revoked_at IS NULL`,
    // The rewrap job walks the versions still wrapped by an older key-encryption key.
    `CREATE INDEX secret_versions_kek_version ON secret_service.secret_versions (kek_version, secret_id, version) WHERE kek_version IS NOT NULL`,
    ...outbox.up,
  ],
  [...outbox.down, `DROP TABLE secret_service.secret_versions`, `DROP TABLE secret_service.secrets`],
);
