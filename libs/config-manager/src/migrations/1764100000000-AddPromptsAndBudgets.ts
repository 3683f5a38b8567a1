import { sqlMigration } from '@llmops/platform-persistence';

/**
 * Prompt templates (immutable versions, movable labels) and LLM spend (usage records, month-to-date spend per
 * namespace, monthly budgets and the threshold alerts already sent). Endpoints, failover chains, presets and pricing
 * need no tables: they are configs.
 */
export const AddPromptsAndBudgets1764100000000 = sqlMigration(
  'AddPromptsAndBudgets1764100000000',
  [
    // One row per prompt: its lock serializes new versions and label moves.
    `CREATE TABLE config_manager.prompts (
       namespace text NOT NULL,
       name text NOT NULL,
       created_by text NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (namespace, name)
     )`,
    `CREATE TABLE config_manager.prompt_versions (
       namespace text NOT NULL,
       name text NOT NULL,
       major integer NOT NULL CHECK (major >= 0),
       minor integer NOT NULL CHECK (minor >= 0),
       patch integer NOT NULL CHECK (patch >= 0),
       template text NOT NULL,
       variables jsonb NOT NULL,
       description text NOT NULL DEFAULT '',
       created_by text NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (namespace, name, major, minor, patch),
       FOREIGN KEY (namespace, name) REFERENCES config_manager.prompts (namespace, name)
     )`,
    `CREATE TABLE config_manager.prompt_labels (
       namespace text NOT NULL,
       name text NOT NULL,
       label text NOT NULL,
       variants jsonb NOT NULL,
       revision integer NOT NULL CHECK (revision > 0),
       updated_by text NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (namespace, name, label),
       FOREIGN KEY (namespace, name) REFERENCES config_manager.prompts (namespace, name)
     )`,
    `CREATE TABLE config_manager.llm_budgets (
       namespace text PRIMARY KEY,
       monthly_usd numeric(18, 6) NOT NULL CHECK (monthly_usd > 0),
       version integer NOT NULL CHECK (version > 0),
       updated_by text NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT now()
     )`,
    // The request id is the caller's, unique per namespace: a retried record is recognised, not counted twice.
    `CREATE TABLE config_manager.llm_usage (
       namespace text NOT NULL,
       request_id text NOT NULL,
       provider text NOT NULL,
       model text NOT NULL,
       input_tokens bigint NOT NULL CHECK (input_tokens >= 0),
       output_tokens bigint NOT NULL CHECK (output_tokens >= 0),
       cost_usd numeric(24, 10) NOT NULL,
       environment text NOT NULL,
       month date NOT NULL,
       occurred_at timestamptz NOT NULL,
       recorded_by text NOT NULL,
       recorded_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (namespace, request_id)
     )`,
    `CREATE INDEX llm_usage_month ON config_manager.llm_usage (month, namespace)`,
    // Spend of a namespace and everything below it; a record adds its cost to its namespace and every ancestor.
    `CREATE TABLE config_manager.llm_monthly_spend (
       namespace text NOT NULL,
       month date NOT NULL,
       spend_usd numeric(24, 10) NOT NULL DEFAULT 0,
       PRIMARY KEY (namespace, month)
     )`,
    // Its primary key is what makes each alert fire once per namespace, month and threshold.
    `CREATE TABLE config_manager.llm_budget_alerts (
       namespace text NOT NULL,
       month date NOT NULL,
       threshold numeric(4, 2) NOT NULL,
       monthly_usd numeric(18, 6) NOT NULL,
       spend_usd numeric(24, 10) NOT NULL,
       crossed_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (namespace, month, threshold)
     )`,
  ],
  [
    `DROP TABLE config_manager.llm_budget_alerts`,
    `DROP TABLE config_manager.llm_monthly_spend`,
    `DROP TABLE config_manager.llm_usage`,
    `DROP TABLE config_manager.llm_budgets`,
    `DROP TABLE config_manager.prompt_labels`,
    `DROP TABLE config_manager.prompt_versions`,
    `DROP TABLE config_manager.prompts`,
  ],
);
