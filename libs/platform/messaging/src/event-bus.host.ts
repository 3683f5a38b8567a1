import { EVENTS_STREAM, EVENTS_SUBJECT_ROOT } from '@llmops/contracts';
import type { HealthReport, HostedService } from '@llmops/platform-runtime';
import type { EventBus } from './event-bus.js';
import { InProcessBus } from './in-process-bus.js';
import { JetStreamBus } from './jetstream-bus.js';
import type { MessagingLogger } from './messaging-logger.js';

export const EVENT_BUS = 'event-bus';

export interface EventBusHostOptions {
  /** NATS with JetStream; unset means the in-process bus, shared by every service of the process. */
  natsUrl?: string;
  stream?: string;
  subjectRoot?: string;
  logger?: MessagingLogger;
  /** Connection name shown by the NATS server. */
  name?: string;
}

/** The event bus as a hosted service, started before (and stopped after) the services that publish or consume. */
export class EventBusHost implements HostedService {
  readonly name = EVENT_BUS;
  readonly dependsOn: readonly string[] = [];
  private current?: EventBus;

  constructor(private readonly options: EventBusHostOptions) {}

  get bus(): EventBus {
    if (!this.current) throw new Error('the event bus is not started');
    return this.current;
  }

  get subjectRoot(): string {
    return this.options.subjectRoot ?? EVENTS_SUBJECT_ROOT;
  }

  async start(): Promise<void> {
    this.current = this.options.natsUrl
      ? await JetStreamBus.connect({
          url: this.options.natsUrl,
          stream: this.options.stream ?? EVENTS_STREAM,
          subjectRoot: this.subjectRoot,
          logger: this.options.logger,
          name: this.options.name,
        })
      : new InProcessBus({ subjectRoot: this.subjectRoot, logger: this.options.logger });
  }

  async stop(): Promise<void> {
    const bus = this.current;
    this.current = undefined;
    await bus?.close();
  }

  /**
   * Healthy while the bus exists: the JetStream connection reconnects by itself and the outbox holds events
   * meanwhile, so restarting the bus during a NATS outage would only drop its consumers. The detail says when
   * NATS is unreachable.
   */
  async health(): Promise<HealthReport> {
    if (!this.current) return { healthy: false, detail: 'not started' };
    try {
      await this.current.ping();
      return { healthy: true };
    } catch (error) {
      return { healthy: true, detail: `NATS unreachable, events wait in the outboxes: ${(error as Error).message}` };
    }
  }
}
