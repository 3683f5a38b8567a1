import { sqlMigration } from '@llmops/platform-persistence';

/** Per-namespace settings (JSON Schemas, environment chain), inherited by the namespaces below. */
export const AddNamespaceSettings1763900000000 = sqlMigration(
  'AddNamespaceSettings1763900000000',
  [
    `CREATE TABLE config_manager.namespace_settings (
       namespace text PRIMARY KEY,
       schema jsonb,
       key_schemas jsonb NOT NULL DEFAULT '{}',
       environments text[] NOT NULL DEFAULT '{}',
       version integer NOT NULL CHECK (version > 0),
       updated_by text NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT now()
     )`,
  ],
  [`DROP TABLE config_manager.namespace_settings`],
);
