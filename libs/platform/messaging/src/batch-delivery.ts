import type { BatchHandler, EventHandler, ReceivedEvent } from './event-bus.js';

/** A delivered, decoded event and how its bus settles it. */
export interface PendingEvent extends ReceivedEvent {
  ack(): void;
  /** The failure path of one event: redelivery after the backoff, or the dead letter after maxDeliver. */
  fail(error: unknown): void;
}

/**
 * Hands `batch` to the handler in one call and acks all of it when the call resolves. When it throws, every event
 * gets a call of its own, so only the events that fail alone take the failure path.
 */
export async function deliverBatch(batch: PendingEvent[], handler: BatchHandler): Promise<void> {
  if (batch.length === 0) return; // every event of it was undecodable and is dead-lettered already
  try {
    await handler(batch.map(({ event, raw }) => ({ event, raw })));
  } catch (error) {
    if (batch.length > 1) {
      for (const pending of batch) await deliverBatch([pending], handler);
    } else {
      for (const pending of batch) pending.fail(error);
    }
    return;
  }
  for (const pending of batch) pending.ack();
}

/** subscribe() is subscribeBatches() with batches of one. */
export function singleEventHandler(handler: EventHandler): BatchHandler {
  return async (events) => {
    for (const { event, raw } of events) await handler(event, raw);
  };
}
