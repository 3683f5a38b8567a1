import { sqlMigration } from '@llmops/platform-persistence';

/**
 * A single-key write's first round trip: take the next global revision (its row lock serializes writers), then read
 * the key's latest version and its namespace's effective settings. It is a function because one plain statement
 * reads with the snapshot of its start, before the lock was granted, and would miss the write it waited for; a
 * VOLATILE function's statements each take a fresh snapshot.
 */
export const AddKeyWriteStart1764300000000 = sqlMigration(
  'AddKeyWriteStart1764300000000',
  [
    `CREATE FUNCTION config_manager.start_key_write(p_namespace text, p_key text, p_environment text, p_namespaces text[])
       RETURNS TABLE (taken_revision bigint, latest_entry jsonb, effective_settings jsonb)
       LANGUAGE plpgsql VOLATILE AS $$
     DECLARE
       taken bigint;
     BEGIN
       UPDATE config_manager.revision_counter SET value = value + 1 RETURNING value INTO taken;
       RETURN QUERY SELECT taken,
         (SELECT to_jsonb(e) FROM (
            SELECT c.id, c.namespace, c.key, c.environment, c.version, c.revision, c.value, c.classification, c.deleted,
                   c.created_by, c.created_at
              FROM config_manager.config_entries AS c
             WHERE c.namespace = p_namespace AND c.key = p_key AND c.environment = p_environment
             ORDER BY c.version DESC LIMIT 1) AS e),
         (SELECT to_jsonb(n) FROM config_manager.namespace_settings AS n
           WHERE n.namespace = ANY(p_namespaces) ORDER BY length(n.namespace) DESC LIMIT 1);
     END
     $$`,
  ],
  [`DROP FUNCTION config_manager.start_key_write(text, text, text, text[])`],
);
