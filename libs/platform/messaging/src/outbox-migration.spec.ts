import { describe, expect, it } from '@jest/globals';
import { Outbox } from './outbox.js';
import { outboxMigrationSql } from './outbox-migration.js';
import { ProcessedEvents } from './processed-events.js';

describe(outboxMigrationSql.name, () => {
  it('creates the outbox with a partial index on unpublished rows, and the processed_events inbox', () => {
    const { up, down } = outboxMigrationSql('config_manager');
    expect(up.join('\n')).toContain('CREATE TABLE "config_manager"."outbox"');
    expect(up.join('\n')).toMatch(/CREATE INDEX \w+ ON "config_manager"."outbox" \(seq\) WHERE published_at IS NULL/);
    expect(up.join('\n')).toContain('CREATE TABLE "config_manager"."processed_events"');
    expect(down).toEqual(['DROP TABLE "config_manager"."processed_events"', 'DROP TABLE "config_manager"."outbox"']);
  });

  it.each(['Config', 'config-manager', 'x"; DROP TABLE users; --', ''])('refuses the schema name %j', (schema) => {
    expect(() => outboxMigrationSql(schema)).toThrow('Invalid schema name');
    expect(() => new Outbox({ source: 'svc', schema })).toThrow('Invalid schema name');
    expect(() => new ProcessedEvents(schema)).toThrow('Invalid schema name');
  });
});
