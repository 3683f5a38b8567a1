import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { EventEnvelope } from '@llmops/contracts';
import { ProcessedEvents, type EventBus, type Subscription } from '@llmops/platform-messaging';
import type { Database } from '@llmops/platform-persistence';
import type { Logger } from '@llmops/platform-observability';
import { AUDIT_SCHEMA } from '../migrations/1763800000000-CreateAuditLogs.js';

export const AUDIT_CONSUMER = 'audit-service';

/**
 * Stores every platform event as an audit entry. The entry and the "processed" mark commit together, and the
 * message is acked only after that commit, so a redelivered or duplicated event is stored exactly once.
 */
export class AuditLogRecorder {
  private readonly processed = new ProcessedEvents(AUDIT_SCHEMA);
  private subscription?: Subscription;

  constructor(
    private readonly database: Database,
    private readonly logger: Logger,
  ) {}

  /** Consumes every event under `subjectRoot` (all services' events) on one durable consumer. */
  async start(bus: EventBus, subjectRoot: string): Promise<void> {
    this.subscription = await bus.subscribe(
      { durableName: AUDIT_CONSUMER, filterSubjects: [`${subjectRoot}.>`] },
      (event) => this.record(event),
    );
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }

  async record(event: EventEnvelope): Promise<void> {
    await this.database.dataSource.transaction(async (manager) => {
      if (!(await this.processed.markProcessed(manager, event.id, AUDIT_CONSUMER))) return;
      const [resourceType, resourceId] = splitSubject(event.subject);
      await manager.query(
        `INSERT INTO ${AUDIT_SCHEMA}.audit_logs
           (id, event_type, actor_id, actor_type, resource_type, resource_id, action, details, ip_address, user_agent,
            source, correlation_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT DO NOTHING`,
        [
          event.id,
          event.type,
          event.actor?.id || null,
          event.actor?.type || 'system',
          resourceType,
          resourceId,
          actionOf(event.type),
          JSON.stringify(event.payload ?? {}),
          validIp(event.actor?.ipAddress),
          event.actor?.userAgent || null,
          event.source,
          event.correlationId || null,
          (event.time ? timestampDate(event.time) : new Date()).toISOString(),
        ],
      );
    });
    this.logger.debug({ eventId: event.id, type: event.type }, 'audit entry recorded');
  }
}

/** `configs/acme/app/model@production` → [`configs`, `acme/app/model@production`]. */
function splitSubject(subject: string): [string | null, string | null] {
  if (!subject) return [null, null];
  const slash = subject.indexOf('/');
  return slash < 0 ? [subject, null] : [subject.slice(0, slash), subject.slice(slash + 1)];
}

/** `config.updated` → `updated`. */
function actionOf(type: string): string {
  return type.slice(type.lastIndexOf('.') + 1) || type;
}

/** The inet column refuses anything that is not an address; an unparseable one is dropped, not the event. */
function validIp(ip: string | undefined): string | null {
  if (!ip) return null;
  return /^[0-9a-fA-F:.]+$/.test(ip) ? ip : null;
}
