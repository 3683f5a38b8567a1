import { qualifiedTable } from './sql-identifier.js';

/**
 * SQL for a service migration: its `outbox` (events waiting for the relay) and `processed_events` (inbox of events
 * its consumers have handled). `seq` gives the publish order: rows of one transaction share `now()` and uuids are
 * random, so neither `created_at` nor `id` keeps the order in which events were added.
 */
export function outboxMigrationSql(schema: string): { up: string[]; down: string[] } {
  const outbox = qualifiedTable(schema, 'outbox');
  const processedEvents = qualifiedTable(schema, 'processed_events');
  return {
    up: [
      `CREATE SCHEMA IF NOT EXISTS "${schema}"`,
      `CREATE TABLE ${outbox} (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id uuid NOT NULL UNIQUE,
        subject text NOT NULL,
        envelope bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      )`,
      // The relay only ever reads unpublished rows; keeping them in a small partial index makes its poll cheap.
      `CREATE INDEX outbox_unpublished_idx ON ${outbox} (seq) WHERE published_at IS NULL`,
      `CREATE TABLE ${processedEvents} (
        consumer text NOT NULL,
        event_id text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`,
    ],
    down: [`DROP TABLE ${processedEvents}`, `DROP TABLE ${outbox}`],
  };
}
