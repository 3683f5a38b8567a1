import { outboxMigrationSql } from '@llmops/platform-messaging';
import { sqlMigration } from '@llmops/platform-persistence';

export const CONFIG_MANAGER_SCHEMA = 'config_manager';
const outbox = outboxMigrationSql(CONFIG_MANAGER_SCHEMA);

export const CreateConfigEntries1763800000000 = sqlMigration(
  'CreateConfigEntries1763800000000',
  [
    `CREATE TABLE config_manager.config_entries (
       id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
       namespace text NOT NULL,
       key text NOT NULL,
       environment text NOT NULL,
       version integer NOT NULL CHECK (version > 0),
       revision bigint NOT NULL,
       value jsonb,
       classification text NOT NULL DEFAULT 'internal',
       deleted boolean NOT NULL DEFAULT false,
       created_by text NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now()
     )`,
    `CREATE UNIQUE INDEX config_entries_key_version ON config_manager.config_entries (namespace, key, environment, version)`,
    `CREATE UNIQUE INDEX config_entries_revision ON config_manager.config_entries (revision)`,
    `CREATE INDEX config_entries_namespace ON config_manager.config_entries (namespace text_pattern_ops, environment)`,
    // One row holds the global revision; writers increment it under its row lock, which orders revisions by commit.
    `CREATE TABLE config_manager.revision_counter (id boolean PRIMARY KEY DEFAULT true CHECK (id), value bigint NOT NULL)`,
    `INSERT INTO config_manager.revision_counter (value) VALUES (0)`,
    ...outbox.up,
  ],
  [
    ...outbox.down,
    `DROP TABLE config_manager.revision_counter`,
    `DROP TABLE config_manager.config_entries`,
  ],
);
