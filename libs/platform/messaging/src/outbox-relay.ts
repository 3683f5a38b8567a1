import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { EventBus } from './event-bus.js';
import { errorMessage, silentLogger, type MessagingLogger } from './messaging-logger.js';
import { OutboxMetrics } from './outbox-metrics.js';
import { qualifiedTable } from './sql-identifier.js';

export interface OutboxRelayOptions {
  dataSource: DataSource;
  schema: string;
  bus: EventBus;
  /** Pause between polls when the outbox is empty. Default 100 ms. */
  pollIntervalMs?: number;
  /** Rows locked and published per transaction. Default 100. */
  batchSize?: number;
  /** Cap of the exponential backoff after a failure. Default 5 s. */
  maxBackoffMs?: number;
  /** How long published rows are kept (for debugging) before they are deleted. Default 1 h. */
  retentionMs?: number;
  /** How often published rows past the retention are deleted. Default 1 min. */
  cleanupIntervalMs?: number;
  logger?: MessagingLogger;
  registry?: Registry;
}

interface OutboxRow {
  id: string;
  subject: string;
  envelope: Uint8Array;
}

interface BatchResult {
  published: number;
  /** Set when publishing stopped part-way; the rest of the batch stays in the outbox. */
  failure?: unknown;
}

/**
 * Moves committed outbox rows to the bus, oldest first. Rows are marked published only after the bus stored them,
 * so while the bus is down events simply wait in the outbox. Publishing is at least once (a crash between publish
 * and commit republishes); JetStream's msgID dedup and idempotent consumers absorb that.
 *
 * Everything runs on one connection at a time and the only slow await inside a transaction is the publish itself,
 * which is what the embedded mode (PGlite behind a single-connection pool) needs.
 */
export class OutboxRelay {
  private readonly table: string;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly maxBackoffMs: number;
  private readonly retentionMs: number;
  private readonly cleanupIntervalMs: number;
  private readonly logger: MessagingLogger;
  private readonly metrics: OutboxMetrics | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  /** Set by nudge(): publish again as soon as the current batch is done. */
  private nudged = false;
  /** Batches failed in a row; while above 0 the relay backs off and nudges do not cut the backoff short. */
  private consecutiveFailures = 0;
  private untrackPending: (() => void) | undefined;
  /** Serializes batches from the loop and from drain(), which keeps publish order and the single connection. */
  private queue: Promise<unknown> = Promise.resolve();
  private lastCleanupAt = 0;

  constructor(private readonly options: OutboxRelayOptions) {
    this.table = qualifiedTable(options.schema, 'outbox');
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.batchSize = options.batchSize ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.retentionMs = options.retentionMs ?? 60 * 60_000;
    this.cleanupIntervalMs = options.cleanupIntervalMs ?? 60_000;
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.registry ? OutboxMetrics.for(options.registry) : undefined;
  }

  start(): void {
    if (this.loop) return;
    this.running = true;
    this.untrackPending = this.metrics?.trackPending(this.options.schema, () => this.countPending());
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.loop;
    this.loop = undefined;
    this.untrackPending?.();
    this.untrackPending = undefined;
  }

  /**
   * Publishes at once instead of at the next poll: call it after committing a transaction that added events, so
   * subscribers hear of the change within a round trip. The poll stays as the backstop (and covers other processes'
   * commits and a crash between commit and nudge).
   */
  nudge(): void {
    this.nudged = true;
    // While the bus is failing every commit would otherwise wake the relay into another failing attempt.
    if (this.consecutiveFailures === 0) this.wakeUp?.();
  }

  /** Publishes everything pending now and returns how many events went out; throws if the bus fails. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const { published, failure } = await this.exclusive(() => this.publishBatch());
      total += published;
      if (failure !== undefined) throw failure;
      if (published < this.batchSize) return total;
    }
  }

  private async run(): Promise<void> {
    this.consecutiveFailures = 0;
    while (this.running) {
      let delayMs = this.pollIntervalMs;
      this.nudged = false;
      try {
        // After a failure, probe the bus before locking rows, so an outage does not hold the DB connection.
        if (this.consecutiveFailures > 0) await this.options.bus.ping();
        const { published, failure } = await this.exclusive(() => this.publishBatch());
        if (failure !== undefined) throw failure;
        if (this.consecutiveFailures > 0) {
          this.logger.info({ schema: this.options.schema, failures: this.consecutiveFailures }, 'outbox relay recovered');
        }
        this.consecutiveFailures = 0;
        if (published === this.batchSize) delayMs = 0;
        await this.exclusive(() => this.deleteExpiredIfDue());
      } catch (error) {
        this.consecutiveFailures += 1;
        delayMs = Math.min(this.maxBackoffMs, this.pollIntervalMs * 2 ** this.consecutiveFailures);
        this.logger.warn(
          { schema: this.options.schema, err: errorMessage(error), failures: this.consecutiveFailures, retryInMs: delayMs },
          'outbox relay failed; events stay in the outbox',
        );
      }
      // A nudge that came while this batch ran found no sleep to cut short; while the bus fails, backoff wins.
      if (this.nudged && this.consecutiveFailures === 0) delayMs = 0;
      if (delayMs > 0 && this.running) await this.sleep(delayMs);
    }
  }

  private async publishBatch(): Promise<BatchResult> {
    const result = await this.options.dataSource.transaction(async (manager): Promise<BatchResult> => {
      const rows: OutboxRow[] = await manager.query(
        `SELECT id, subject, envelope FROM ${this.table} WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.batchSize],
      );
      const publishedIds: string[] = [];
      let failure: unknown;
      for (const row of rows) {
        try {
          await this.options.bus.publish(row.subject, row.envelope, row.id);
          publishedIds.push(row.id);
        } catch (error) {
          // Stop here: publishing later rows first would reorder events.
          failure = error ?? new Error('publish failed');
          break;
        }
      }
      if (publishedIds.length > 0) {
        // The mark commits without waiting for its WAL flush (synchronous_commit off for this transaction only): a
        // crash can lose only the mark, never an event, and a lost mark means a republish that JetStream's msgID
        // dedup and idempotent consumers absorb. It keeps the relay's fsync off the disk the writers commit on.
        await manager.query(
          `WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true))
           UPDATE ${this.table} SET published_at = now() WHERE id = ANY($1::uuid[]) AND EXISTS (SELECT 1 FROM relaxed)`,
          [publishedIds],
        );
      }
      return { published: publishedIds.length, failure };
    });
    this.metrics?.published.inc({ schema: this.options.schema }, result.published);
    if (result.failure !== undefined) this.metrics?.publishFailures.inc({ schema: this.options.schema });
    return result;
  }

  private async deleteExpiredIfDue(): Promise<void> {
    if (Date.now() - this.lastCleanupAt < this.cleanupIntervalMs) return;
    this.lastCleanupAt = Date.now();
    await this.options.dataSource.query(
      `DELETE FROM ${this.table} WHERE published_at < now() - make_interval(secs => $1)`,
      [this.retentionMs / 1000],
    );
  }

  private async countPending(): Promise<number> {
    const [row]: { pending: number }[] = await this.options.dataSource.query(
      `SELECT count(*)::int AS pending FROM ${this.table} WHERE published_at IS NULL`,
    );
    return row?.pending ?? 0;
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}
