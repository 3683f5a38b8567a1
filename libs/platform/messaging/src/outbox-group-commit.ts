import type { EventEnvelope } from '@llmops/contracts';
import type { DataSource } from 'typeorm';
import type { EventInput, Outbox } from './outbox.js';

interface Pending {
  row: ReturnType<Outbox['rowOf']>;
  resolve: (event: EventEnvelope) => void;
  reject: (error: unknown) => void;
}

/** Events per INSERT: 3 parameters each, well inside PostgreSQL's 65,535. */
const DEFAULT_MAX_BATCH = 1_000;

/**
 * Group commit for outbox events that change nothing else but must be durable before the caller answers (a secret
 * revealed: fail closed). add() resolves once its event is committed; the events added while one INSERT is in flight
 * go together in the next, one statement and one round trip for all of them, instead of a transaction per event.
 * A failed INSERT rejects every add() it carried, so none of those callers answers.
 */
export class OutboxGroupCommit {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly maxBatch = DEFAULT_MAX_BATCH,
  ) {}

  add(event: EventInput): Promise<EventEnvelope> {
    const row = this.outbox.rowOf(event);
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const parameters: unknown[] = [];
          const values = batch.map(({ row }, index) => {
            parameters.push(row.id, row.subject, row.envelope);
            return `($${index * 3 + 1}, $${index * 3 + 2}, $${index * 3 + 3})`;
          });
          // One statement is its own transaction: the whole batch commits, or none of it.
          await this.dataSource.query(`INSERT INTO ${batch[0]!.row.table} (id, subject, envelope) VALUES ${values.join(', ')}`, parameters);
          for (const pending of batch) pending.resolve(pending.row.event);
        } catch (error) {
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
