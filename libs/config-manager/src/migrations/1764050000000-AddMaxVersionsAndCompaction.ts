import { sqlMigration } from '@llmops/platform-persistence';

/**
 * max_versions per namespace (NULL keeps every version), and the compacted revision: the highest revision whose row a
 * pruning write deleted, below which a watch can no longer replay every change.
 */
export const AddMaxVersionsAndCompaction1764050000000 = sqlMigration(
  'AddMaxVersionsAndCompaction1764050000000',
  [
    `ALTER TABLE config_manager.namespace_settings ADD COLUMN max_versions integer CHECK (max_versions BETWEEN 1 AND 10000)`,
    `ALTER TABLE config_manager.revision_counter ADD COLUMN compacted_revision bigint NOT NULL DEFAULT 0`,
  ],
  [
    `ALTER TABLE config_manager.revision_counter DROP COLUMN compacted_revision`,
    `ALTER TABLE config_manager.namespace_settings DROP COLUMN max_versions`,
  ],
);
