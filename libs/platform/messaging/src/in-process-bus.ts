import { EVENTS_SUBJECT_ROOT, type EventEnvelope } from '@llmops/contracts';
import { deliverBatch, singleEventHandler, type PendingEvent } from './batch-delivery.js';
import { decodeEvent } from './event-codec.js';
import {
  DEFAULT_MAX_DELIVER,
  deadLetterSubject,
  maxBatchSizeOf,
  redeliveryDelayMs,
  type BatchHandler,
  type BatchedConsumerOptions,
  type ConsumerOptions,
  type DeliveredEvent,
  type EventBus,
  type EventHandler,
  type Subscription,
} from './event-bus.js';
import { errorMessage, silentLogger, type MessagingLogger } from './messaging-logger.js';

export interface InProcessBusOptions {
  subjectRoot?: string;
  /** Window in which a repeated eventId is stored only once. Default 2 min. */
  duplicateWindowMs?: number;
  /**
   * Recent events kept for durable consumers that subscribe later (like a stream's max_msgs). Default 10,000.
   * Events a known durable consumer has not acknowledged yet are kept regardless, so none is lost to a slow one.
   */
  historyLimit?: number;
  logger?: MessagingLogger;
}

interface StoredEvent {
  seq: number;
  subject: string;
  eventId: string;
  data: Uint8Array;
}

/** Delivered and not yet acknowledged; `dueAt` is Infinity while the handler runs. */
interface PendingDelivery {
  deliveryCount: number;
  dueAt: number;
}

/** What JetStream keeps for a durable consumer: a cursor and the unacknowledged deliveries. */
class DurableCursor {
  readonly pending = new Map<number, PendingDelivery>();
  private readonly waiters = new Set<() => void>();

  constructor(
    public nextSeq: number,
    public options: ConsumerOptions,
  ) {}

  lowestNeededSeq(): number {
    return Math.min(this.nextSeq, ...this.pending.keys());
  }

  notify(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves on notify() or after `ms`. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = Number.isFinite(ms) ? setTimeout(wake, ms).unref() : undefined;
      this.waiters.add(wake);
    });
  }
}

type NextDelivery = { event: StoredEvent; deliveryCount: number } | { waitMs: number };

/**
 * EventBus in memory for the single-process mode (no NATS_URL), with JetStream's semantics: an ordered log,
 * dedup by eventId within a window, durable consumers that keep their cursor across subscribe() calls, redelivery
 * with backoff when a handler throws, and dead-lettering after maxDeliver. The handler's promise is the ack, so
 * `ackWaitMs` and `batchSize` do not apply; a batch is what was published while the previous one was handled.
 * Nothing survives a restart; the outbox still protects events that were not yet published.
 */
export class InProcessBus implements EventBus {
  private readonly log = new Map<number, StoredEvent>();
  private firstSeq = 1;
  private lastSeq = 0;
  private readonly recentEventIds = new Map<string, number>();
  private readonly cursors = new Map<string, DurableCursor>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly listeners = new Set<{ filterSubject: string; onEvent: (subject: string) => void }>();
  private readonly subjectRoot: string;
  private readonly duplicateWindowMs: number;
  private readonly historyLimit: number;
  private readonly logger: MessagingLogger;
  private closed = false;

  constructor(options: InProcessBusOptions = {}) {
    this.subjectRoot = options.subjectRoot ?? EVENTS_SUBJECT_ROOT;
    this.duplicateWindowMs = options.duplicateWindowMs ?? 120_000;
    this.historyLimit = options.historyLimit ?? 10_000;
    this.logger = options.logger ?? silentLogger;
  }

  /** Never runs handlers inline: a publisher inside a DB transaction must not wait for consumers' transactions. */
  async publish(subject: string, envelope: Uint8Array, eventId: string): Promise<void> {
    this.assertOpen();
    if (!subject.startsWith(`${this.subjectRoot}.`)) {
      throw new Error(`No stream for subject ${subject}: events must be under ${this.subjectRoot}.>`);
    }
    if (this.isDuplicate(eventId)) return;
    this.lastSeq += 1;
    this.log.set(this.lastSeq, { seq: this.lastSeq, subject, eventId, data: envelope.slice() });
    this.trim();
    for (const cursor of this.cursors.values()) cursor.notify();
    for (const listener of this.listeners) if (subjectMatches(listener.filterSubject, subject)) listener.onEvent(subject);
  }

  /** In one process the feed is never interrupted, so a listener's onResume never runs. */
  listen(filterSubject: string, onEvent: (subject: string) => void): Subscription {
    this.assertOpen();
    const listener = { filterSubject, onEvent };
    this.listeners.add(listener);
    return { close: async () => void this.listeners.delete(listener) };
  }

  async subscribe(options: ConsumerOptions, handler: EventHandler): Promise<Subscription> {
    return this.subscribeBatches({ ...options, maxBatchSize: 1 }, singleEventHandler(handler));
  }

  async subscribeBatches(options: BatchedConsumerOptions, handler: BatchHandler): Promise<Subscription> {
    this.assertOpen();
    const maxBatchSize = maxBatchSizeOf(options);
    let cursor = this.cursors.get(options.durableName);
    if (cursor) cursor.options = options;
    else {
      // A new durable starts at the oldest retained event, like DeliverPolicy.All.
      cursor = new DurableCursor(this.firstSeq, options);
      this.cursors.set(options.durableName, cursor);
    }
    const state = { active: true };
    const pumping = this.pump(cursor, maxBatchSize, handler, state);
    const subscription: Subscription = {
      close: async () => {
        state.active = false;
        this.subscriptions.delete(subscription);
        cursor.notify();
        await pumping;
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
  }

  private async pump(cursor: DurableCursor, maxBatchSize: number, handler: BatchHandler, state: { active: boolean }): Promise<void> {
    while (state.active) {
      const next = this.nextBatch(cursor, maxBatchSize);
      if ('waitMs' in next) await cursor.wait(next.waitMs);
      else {
        await deliverBatch(next, handler);
        this.trim();
      }
    }
  }

  /** Whatever is due, up to `maxBatchSize`: the events published while the previous batch was handled. */
  private nextBatch(cursor: DurableCursor, maxBatchSize: number): PendingEvent[] | { waitMs: number } {
    const batch: PendingEvent[] = [];
    for (let taken = 0; taken < maxBatchSize; taken += 1) {
      const next = this.nextDelivery(cursor);
      if ('waitMs' in next) return taken === 0 ? next : batch;
      const pending = this.receive(cursor, next.event, next.deliveryCount);
      if (pending) batch.push(pending);
    }
    return batch;
  }

  /** Due redeliveries first (lowest sequence first), then the next new event matching the filters. */
  private nextDelivery(cursor: DurableCursor): NextDelivery {
    const now = Date.now();
    let earliestDueAt = Infinity;
    let dueSeq: number | undefined;
    for (const [seq, delivery] of cursor.pending) {
      if (delivery.dueAt <= now && (dueSeq === undefined || seq < dueSeq)) dueSeq = seq;
      earliestDueAt = Math.min(earliestDueAt, delivery.dueAt);
    }
    if (dueSeq !== undefined) {
      const delivery = cursor.pending.get(dueSeq);
      const event = this.log.get(dueSeq);
      if (delivery && event) return { event, deliveryCount: delivery.deliveryCount + 1 };
      cursor.pending.delete(dueSeq); // unreachable while trim() keeps pending events; avoids a busy loop if not
      return { waitMs: 0 };
    }
    while (cursor.nextSeq <= this.lastSeq) {
      const event = this.log.get(cursor.nextSeq);
      cursor.nextSeq += 1;
      if (event && cursor.options.filterSubjects.some((filter) => subjectMatches(filter, event.subject))) {
        return { event, deliveryCount: 1 };
      }
    }
    return { waitMs: Math.max(0, earliestDueAt - now) };
  }

  private receive(cursor: DurableCursor, stored: StoredEvent, deliveryCount: number): PendingEvent | undefined {
    cursor.pending.set(stored.seq, { deliveryCount, dueAt: Infinity });
    const delivered: DeliveredEvent = {
      subject: stored.subject,
      eventId: stored.eventId,
      deliveryCount,
      streamSequence: stored.seq,
      data: stored.data,
    };
    let event: EventEnvelope;
    try {
      event = decodeEvent(stored.data);
    } catch (error) {
      this.deadLetter(cursor, delivered, error);
      return undefined;
    }
    return {
      event,
      raw: delivered,
      ack: () => {
        cursor.pending.delete(stored.seq); // the pump trims the log once per batch
      },
      fail: (error) => this.failed(cursor, delivered, error),
    };
  }

  private failed(cursor: DurableCursor, delivered: DeliveredEvent, error: unknown): void {
    const { options } = cursor;
    if (delivered.deliveryCount >= (options.maxDeliver ?? DEFAULT_MAX_DELIVER)) {
      this.deadLetter(cursor, delivered, error);
      return;
    }
    const delayMs = redeliveryDelayMs(delivered.deliveryCount, options.retryBackoff);
    this.logger.warn(
      { consumer: options.durableName, eventId: delivered.eventId, attempt: delivered.deliveryCount, retryInMs: delayMs, err: errorMessage(error) },
      'event handler failed; will redeliver',
    );
    cursor.pending.set(delivered.streamSequence, { deliveryCount: delivered.deliveryCount, dueAt: Date.now() + delayMs });
  }

  /** There is no broker to hold dead letters in memory, so the log line is the record. */
  private deadLetter(cursor: DurableCursor, delivered: DeliveredEvent, error: unknown): void {
    cursor.pending.delete(delivered.streamSequence);
    this.trim();
    this.logger.error(
      {
        consumer: cursor.options.durableName,
        eventId: delivered.eventId,
        subject: delivered.subject,
        attempts: delivered.deliveryCount,
        deadLetterSubject: deadLetterSubject(this.subjectRoot, cursor.options.durableName),
        err: errorMessage(error),
      },
      'event dead-lettered',
    );
  }

  private isDuplicate(eventId: string): boolean {
    const now = Date.now();
    // Insertion order is publish order, so expired ids are at the front.
    for (const [id, publishedAt] of this.recentEventIds) {
      if (now - publishedAt < this.duplicateWindowMs) break;
      this.recentEventIds.delete(id);
    }
    if (this.recentEventIds.has(eventId)) return true;
    this.recentEventIds.set(eventId, now);
    return false;
  }

  /** Drops events that are both older than the history and acknowledged by every durable consumer. */
  private trim(): void {
    let keepFrom = this.lastSeq - this.historyLimit + 1;
    for (const cursor of this.cursors.values()) keepFrom = Math.min(keepFrom, cursor.lowestNeededSeq());
    for (; this.firstSeq < keepFrom; this.firstSeq += 1) this.log.delete(this.firstSeq);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('Event bus is closed');
  }
}

/** NATS subject matching: `*` matches one token, a trailing `>` one or more. */
export function subjectMatches(filter: string, subject: string): boolean {
  const filterTokens = filter.split('.');
  const subjectTokens = subject.split('.');
  for (let i = 0; i < filterTokens.length; i += 1) {
    const token = filterTokens[i];
    if (token === '>') return subjectTokens.length > i;
    if (i >= subjectTokens.length || (token !== '*' && token !== subjectTokens[i])) return false;
  }
  return filterTokens.length === subjectTokens.length;
}
