import type { EventEnvelope } from '@llmops/contracts';

/** Transport details of one delivery, next to the decoded event. */
export interface DeliveredEvent {
  subject: string;
  eventId: string;
  /** 1 on the first delivery, 2 on the first redelivery, ... */
  deliveryCount: number;
  /** Position in the stream (JetStream) or in the in-memory log. */
  streamSequence: number;
  data: Uint8Array;
}

export interface RetryBackoff {
  initialMs: number;
  maxMs: number;
}

export interface ConsumerOptions {
  /** Durable consumer name: the cursor survives restarts and is shared by the instances of one service. */
  durableName: string;
  /** NATS subject filters, e.g. `['events.>']` or `['events.config-manager.*']`. */
  filterSubjects: string[];
  /** Deliveries before a failing event is dead-lettered. Default 5. */
  maxDeliver?: number;
  /**
   * How long a delivery may stay unacknowledged before JetStream redelivers it. Default 30 s. With batches, an event
   * fetched ahead waits for the handler call in progress before its own, so keep it well above twice the slowest call.
   */
  ackWaitMs?: number;
  /** Events fetched ahead of the handler. Default 10. */
  batchSize?: number;
  /** Delay before a failed event is redelivered, doubling per attempt. Default 500 ms up to 30 s. */
  retryBackoff?: RetryBackoff;
}

export interface BatchedConsumerOptions extends ConsumerOptions {
  /** Most events handed to one handler call. Default 500. JetStream fetches at least this many ahead. */
  maxBatchSize?: number;
}

export type EventHandler = (event: EventEnvelope, raw: DeliveredEvent) => Promise<void>;

export interface ReceivedEvent {
  event: EventEnvelope;
  raw: DeliveredEvent;
}

/** Handles a batch, in stream order, e.g. in one database transaction; resolving acknowledges every event of it. */
export type BatchHandler = (events: ReceivedEvent[]) => Promise<void>;

export interface Subscription {
  /** Stops delivering; events being handled finish first. The durable cursor is kept. */
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Called after the feed resumed from an interruption in which notifications may have been lost. */
  onResume?: () => void;
}

export interface EventBus {
  /** At least once: resolves once the event is stored; the same `eventId` within the duplicate window is stored once. */
  publish(subject: string, envelope: Uint8Array, eventId: string): Promise<void>;
  /**
   * Durable subscription. A handler that resolves acknowledges the event; one that throws gets it again after a
   * backoff; after `maxDeliver` failed deliveries the event is dead-lettered and skipped.
   */
  subscribe(consumer: ConsumerOptions, handler: EventHandler): Promise<Subscription>;
  /**
   * Durable subscription that commits in groups, for handlers that pay per call (one transaction per batch).
   * - Natural group commit, no timer: as soon as the previous call has finished, the handler gets every event
   *   already delivered and waiting, up to `maxBatchSize`; while a call runs, new deliveries pile up into the next
   *   batch. Under light load a batch is one event, handed over without delay.
   * - One call at a time, batches and the events inside them in stream order (redeliveries come when they are due).
   * - The handler resolves: every event of the batch is acknowledged. It throws: the bus hands the batch's events to
   *   the handler again one at a time (a batch of one each), so a poison event neither holds back nor dead-letters
   *   its neighbours; an event whose own call fails takes the path of subscribe(): redelivery after the backoff,
   *   dead letter after `maxDeliver`. Its neighbours are so handed over twice: a call that throws must leave no trace
   *   (roll its transaction back).
   * - Undecodable events are dead-lettered without reaching the handler, as in subscribe().
   * - close() stops fetching and resolves once the batch in progress (and any events JetStream already fetched) is
   *   handled and acknowledged. The events of a process that dies mid-batch are redelivered after `ackWaitMs`.
   */
  subscribeBatches(consumer: BatchedConsumerOptions, handler: BatchHandler): Promise<Subscription>;
  /**
   * A notification feed, not a consumer: every listener (every replica) hears every event published on `filterSubject`
   * from now on, at most once, unacknowledged, with nothing kept on the server. For waking things up early (a lost
   * notification must only cost latency), never for work that has to happen.
   * `onResume` runs when the feed is back after an interruption (a reconnect) during which notifications may have been
   * lost: a listener that keeps state because nothing was heard (a cache) drops it there.
   */
  listen(filterSubject: string, onEvent: (subject: string) => void, options?: ListenOptions): Subscription;
  /** Throws when the bus cannot accept events right now (readiness check). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_DELIVER = 5;
export const DEFAULT_ACK_WAIT_MS = 30_000;
export const DEFAULT_BATCH_SIZE = 10;
export const DEFAULT_MAX_BATCH_SIZE = 500;
const defaultRetryBackoff: RetryBackoff = { initialMs: 500, maxMs: 30_000 };

/** Delay before redelivering an event whose handler failed on delivery number `deliveryCount`. */
export function redeliveryDelayMs(deliveryCount: number, backoff: RetryBackoff = defaultRetryBackoff): number {
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, deliveryCount - 1));
}

/**
 * Where poison events go. Deliberately outside the events subject root, so the dead letters are not captured by
 * the events stream and fed back to every consumer; attach a stream to `deadletter.>` to keep them.
 */
export function deadLetterSubject(subjectRoot: string, durableName: string): string {
  return `deadletter.${subjectRoot}.${durableName}`;
}

/** `maxBatchSize` with its default, rejecting values that would stall or misbehave. */
export function maxBatchSizeOf(options: BatchedConsumerOptions): number {
  const size = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
  if (!Number.isInteger(size) || size < 1) {
    throw new Error(`Consumer ${options.durableName}: maxBatchSize must be a positive integer, got ${size}`);
  }
  return size;
}
