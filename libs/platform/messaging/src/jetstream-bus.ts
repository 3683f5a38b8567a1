import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { connect, headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM, EVENTS_SUBJECT_ROOT, type EventEnvelope } from '@llmops/contracts';
import { deliverBatch, singleEventHandler, type PendingEvent } from './batch-delivery.js';
import { bufferedBatches } from './buffered-batches.js';
import { decodeEvent } from './event-codec.js';
import {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_BATCH_SIZE,
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
  type ListenOptions,
  type Subscription,
} from './event-bus.js';
import { errorMessage, silentLogger, type MessagingLogger } from './messaging-logger.js';

export interface JetStreamBusOptions {
  /** One server URL or a comma-separated list. */
  url: string;
  stream?: string;
  subjectRoot?: string;
  /** Window in which a repeated eventId (msgID) is stored only once. Default 2 min. */
  duplicateWindowMs?: number;
  /** How long the stream keeps events, which bounds how long a consumer may be offline. Default 7 days. */
  maxAgeMs?: number;
  /** Timeout of a publish and of JetStream API calls. Default 5 s. */
  requestTimeoutMs?: number;
  logger?: MessagingLogger;
  /** Connection name shown by the server, e.g. the service name. */
  name?: string;
}

const MSG_ID_HEADER = 'Nats-Msg-Id';
const SERVER_DEFAULT_MAX_ACK_PENDING = 1_000;

/**
 * EventBus on NATS JetStream: one file-backed stream for `<root>.>`, publishes deduplicated by msgID, durable pull
 * consumers with explicit acks. The connection reconnects forever; while it is down, publish and ping fail at once
 * instead of queueing, so the outbox relay backs off without holding its database transaction.
 */
export class JetStreamBus implements EventBus {
  private connected = true;
  private readonly subscriptions = new Set<Subscription>();
  /** listen()ers to tell after a reconnect: core NATS keeps nothing for a subscriber while it is away. */
  private readonly resumeListeners = new Set<() => void>();
  private readonly js: JetStreamClient;
  private readonly stream: string;
  private readonly subjectRoot: string;
  private readonly logger: MessagingLogger;
  private readonly requestTimeoutMs: number;

  static async connect(options: JetStreamBusOptions): Promise<JetStreamBus> {
    const connection = await connect({
      servers: options.url.split(',').map((url) => url.trim()),
      name: options.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
    });
    try {
      const manager = await jetstreamManager(connection, { timeout: options.requestTimeoutMs ?? 5_000 });
      const bus = new JetStreamBus(connection, manager, options);
      await bus.ensureStream(options.duplicateWindowMs ?? 120_000, options.maxAgeMs ?? 7 * 24 * 3_600_000);
      return bus;
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  private constructor(
    private readonly connection: NatsConnection,
    private readonly manager: JetStreamManager,
    options: JetStreamBusOptions,
  ) {
    this.stream = options.stream ?? EVENTS_STREAM;
    this.subjectRoot = options.subjectRoot ?? EVENTS_SUBJECT_ROOT;
    this.logger = options.logger ?? silentLogger;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.js = jetstream(connection, { timeout: this.requestTimeoutMs });
    void this.watchConnection();
  }

  async publish(subject: string, envelope: Uint8Array, eventId: string): Promise<void> {
    this.assertConnected();
    await this.js.publish(subject, envelope, {
      msgID: eventId,
      expect: { streamName: this.stream },
      timeout: this.requestTimeoutMs,
    });
  }

  async subscribe(options: ConsumerOptions, handler: EventHandler): Promise<Subscription> {
    return this.subscribeBatches({ ...options, maxBatchSize: 1 }, singleEventHandler(handler));
  }

  async subscribeBatches(options: BatchedConsumerOptions, handler: BatchHandler): Promise<Subscription> {
    const maxBatchSize = maxBatchSizeOf(options);
    // Fetching at least a batch ahead is what lets deliveries pile up into a full batch while the handler runs.
    const fetchAhead = Math.max(options.batchSize ?? DEFAULT_BATCH_SIZE, maxBatchSize);
    await this.ensureConsumer(options, fetchAhead);
    const consumer = await this.js.consumers.get(this.stream, options.durableName);
    const messages = await consumer.consume({ max_messages: fetchAhead });
    // One handler call at a time, so each consumer sees the stream in order.
    const handling = (async () => {
      for await (const fetched of bufferedBatches(messages, maxBatchSize)) {
        await deliverBatch(fetched.flatMap((message) => this.receive(message, options) ?? []), handler);
      }
    })().catch((error: unknown) => {
      this.logger.error({ consumer: options.durableName, err: errorMessage(error) }, 'event consumer stopped');
    });
    const subscription: Subscription = {
      close: async () => {
        this.subscriptions.delete(subscription);
        // close() lets the loop finish the events already fetched before it resolves.
        await messages.close();
        await handling;
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** A core NATS subscription: JetStream publishes reach it too, and it leaves no consumer behind. */
  listen(filterSubject: string, onEvent: (subject: string) => void, options: ListenOptions = {}): Subscription {
    const subscription = this.connection.subscribe(filterSubject, {
      callback: (error, message) => {
        if (error) this.logger.warn({ err: error, subject: filterSubject }, 'event listener failed');
        else onEvent(message.subject);
      },
    });
    const onResume = options.onResume;
    if (onResume) this.resumeListeners.add(onResume);
    return {
      close: async () => {
        if (onResume) this.resumeListeners.delete(onResume);
        subscription.unsubscribe();
      },
    };
  }

  async ping(): Promise<void> {
    this.assertConnected();
    await this.manager.streams.info(this.stream);
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    if (this.connection.isClosed()) return;
    // Drain flushes pending acks; while disconnected it would wait for a reconnect that may never come.
    if (this.connected) await this.connection.drain();
    else await this.connection.close();
  }

  private receive(message: JsMsg, options: ConsumerOptions): PendingEvent | undefined {
    const delivered: DeliveredEvent = {
      subject: message.subject,
      eventId: message.headers?.get(MSG_ID_HEADER) ?? '',
      deliveryCount: message.info.deliveryCount,
      streamSequence: message.seq,
      data: message.data,
    };
    let event: EventEnvelope;
    try {
      event = decodeEvent(message.data);
    } catch (error) {
      this.deadLetter(message, delivered, options, error); // undecodable: no retry can fix it
      return undefined;
    }
    if (delivered.eventId === '') delivered.eventId = event.id;
    return {
      event,
      raw: delivered,
      ack: () => message.ack(),
      fail: (error) => this.failed(message, delivered, options, error),
    };
  }

  private failed(message: JsMsg, delivered: DeliveredEvent, options: ConsumerOptions, error: unknown): void {
    const maxDeliver = options.maxDeliver ?? DEFAULT_MAX_DELIVER;
    if (delivered.deliveryCount >= maxDeliver) {
      this.deadLetter(message, delivered, options, error);
      return;
    }
    const delayMs = redeliveryDelayMs(delivered.deliveryCount, options.retryBackoff);
    this.logger.warn(
      { consumer: options.durableName, eventId: delivered.eventId, attempt: delivered.deliveryCount, retryInMs: delayMs, err: errorMessage(error) },
      'event handler failed; will redeliver',
    );
    message.nak(delayMs);
  }

  private deadLetter(message: JsMsg, delivered: DeliveredEvent, options: ConsumerOptions, error: unknown): void {
    const subject = deadLetterSubject(this.subjectRoot, options.durableName);
    const reason = errorMessage(error).replace(/[\r\n]+/g, ' ').slice(0, 1_000);
    const deadLetterHeaders = headers();
    deadLetterHeaders.set(MSG_ID_HEADER, delivered.eventId);
    deadLetterHeaders.set('Llmops-Original-Subject', delivered.subject);
    deadLetterHeaders.set('Llmops-Consumer', options.durableName);
    deadLetterHeaders.set('Llmops-Error', reason);
    this.connection.publish(subject, message.data, { headers: deadLetterHeaders });
    // term(): the server stops redelivering; ack would read as success in consumer metrics.
    message.term();
    this.logger.error(
      { consumer: options.durableName, eventId: delivered.eventId, subject: delivered.subject, attempts: delivered.deliveryCount, deadLetterSubject: subject, err: reason },
      'event dead-lettered',
    );
  }

  private async ensureStream(duplicateWindowMs: number, maxAgeMs: number): Promise<void> {
    try {
      await this.manager.streams.info(this.stream);
      return; // an existing stream is left as operations configured it
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
    }
    await this.manager.streams.add({
      name: this.stream,
      subjects: [`${this.subjectRoot}.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      duplicate_window: nanos(duplicateWindowMs),
      max_age: nanos(maxAgeMs),
    });
    this.logger.info({ stream: this.stream, subjectRoot: this.subjectRoot }, 'created JetStream stream');
  }

  private async ensureConsumer(options: ConsumerOptions, fetchAhead: number): Promise<void> {
    const [firstFilter, ...moreFilters] = options.filterSubjects;
    if (firstFilter === undefined) throw new Error(`Consumer ${options.durableName} needs at least one filter subject`);
    const updatable = {
      ack_wait: nanos(options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
      max_deliver: options.maxDeliver ?? DEFAULT_MAX_DELIVER,
      // Room for a batch being handled and the next one piling up; the server stops delivering beyond it.
      max_ack_pending: Math.max(SERVER_DEFAULT_MAX_ACK_PENDING, 2 * fetchAhead),
      // A single filter goes in filter_subject: filter_subjects needs nats-server 2.10.
      ...(moreFilters.length === 0 ? { filter_subject: firstFilter } : { filter_subjects: options.filterSubjects }),
    } satisfies Partial<ConsumerConfig>;
    let existing: ConsumerInfo;
    try {
      existing = await this.manager.consumers.info(this.stream, options.durableName);
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
      await this.manager.consumers.add(this.stream, {
        ...updatable,
        durable_name: options.durableName,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
      });
      return;
    }
    const { config } = existing;
    const unchanged =
      config.ack_wait === updatable.ack_wait &&
      config.max_deliver === updatable.max_deliver &&
      config.max_ack_pending === updatable.max_ack_pending &&
      (config.filter_subject ?? '') === ('filter_subject' in updatable ? updatable.filter_subject : '') &&
      sameSubjects(config.filter_subjects, 'filter_subjects' in updatable ? updatable.filter_subjects : undefined);
    if (!unchanged) await this.manager.consumers.update(this.stream, options.durableName, updatable);
  }

  private assertConnected(): void {
    if (!this.connected || this.connection.isClosed()) throw new Error('NATS connection is down');
  }

  private async watchConnection(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.logger.warn({ server: status.server }, 'NATS disconnected; reconnecting');
      } else if (status.type === 'reconnect') {
        this.connected = true;
        this.logger.info({ server: status.server }, 'NATS reconnected');
        for (const onResume of this.resumeListeners) {
          try {
            onResume();
          } catch (error) {
            this.logger.warn({ err: error }, 'a listener failed on resume');
          }
        }
      }
    }
  }
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

function sameSubjects(current: string[] | undefined, wanted: string[] | undefined): boolean {
  return (current ?? []).join('\n') === (wanted ?? []).join('\n');
}
