export { decodeEvent, encodeEvent } from './event-codec.js';
export {
  DEFAULT_MAX_BATCH_SIZE,
  deadLetterSubject,
  redeliveryDelayMs,
  type BatchHandler,
  type BatchedConsumerOptions,
  type ConsumerOptions,
  type DeliveredEvent,
  type EventBus,
  type EventHandler,
  type ListenOptions,
  type ReceivedEvent,
  type RetryBackoff,
  type Subscription,
} from './event-bus.js';
export { InProcessBus, type InProcessBusOptions } from './in-process-bus.js';
export { JetStreamBus, type JetStreamBusOptions } from './jetstream-bus.js';
export type { MessagingLogger } from './messaging-logger.js';
export { Outbox, type EventInput, type OutboxOptions } from './outbox.js';
export { OutboxGroupCommit } from './outbox-group-commit.js';
export { outboxMigrationSql } from './outbox-migration.js';
export { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';
export { ProcessedEvents } from './processed-events.js';
export { EVENT_BUS, EventBusHost, type EventBusHostOptions } from './event-bus.host.js';
