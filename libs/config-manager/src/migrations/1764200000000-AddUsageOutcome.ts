import { sqlMigration } from '@llmops/platform-persistence';

/**
 * Whether a recorded LLM request failed: its tokens still cost, but it is not a successful request (seed 001 §6.4's
 * cost per successful request). Records made before this migration succeeded.
 */
export const AddUsageOutcome1764200000000 = sqlMigration(
  'AddUsageOutcome1764200000000',
  [`ALTER TABLE config_manager.llm_usage ADD COLUMN failed boolean NOT NULL DEFAULT false`],
  [`ALTER TABLE config_manager.llm_usage DROP COLUMN failed`],
);
