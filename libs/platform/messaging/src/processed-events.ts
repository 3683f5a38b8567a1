import type { EntityManager } from 'typeorm';
import { qualifiedTable } from './sql-identifier.js';

/**
 * The consumer side of exactly-once effects: record the event id in the same transaction as the handler's own
 * writes. A redelivered event then finds its row and is skipped, and the bus is acked only after that commit.
 */
export class ProcessedEvents {
  private readonly table: string;

  constructor(schema: string) {
    this.table = qualifiedTable(schema, 'processed_events');
  }

  /** True when this is the first time `consumer` processes `eventId`; false means skip it. */
  async markProcessed(manager: EntityManager, eventId: string, consumer: string): Promise<boolean> {
    const inserted: unknown[] = await manager.query(
      `INSERT INTO ${this.table} (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id`,
      [consumer, eventId],
    );
    return inserted.length > 0;
  }
}
