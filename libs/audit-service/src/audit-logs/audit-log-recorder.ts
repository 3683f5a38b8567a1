import { isIP } from 'node:net';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { EventEnvelope } from '@llmops/contracts';
import type { EventBus, Subscription } from '@llmops/platform-messaging';
import type { Database } from '@llmops/platform-persistence';
import type { Logger } from '@llmops/platform-observability';
import type { EntityManager } from 'typeorm';
import type { MerkleLogWriter, NewAuditEntry, StoredTreeHead } from '../merkle-log/merkle-log-writer.js';
import { AUDIT_SCHEMA } from '../migrations/1763800000000-CreateAuditLogs.js';
import type { SensitiveDetailHasher } from './sensitive-detail-hasher.js';

export const AUDIT_CONSUMER = 'audit-service';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Stores platform events as audit entries, appended to the Merkle log. A batch of events, their "processed" marks,
 * the tree nodes and the signed tree head commit in one transaction, and the bus acks the batch only after that
 * commit: a redelivered or duplicated event is stored exactly once, and nothing is acked that is not in the tree.
 */
export class AuditLogRecorder {
  private subscription?: Subscription;

  constructor(
    private readonly database: Database,
    private readonly writer: MerkleLogWriter,
    private readonly hasher: SensitiveDetailHasher,
    private readonly logger: Logger,
    private readonly maxBatchSize = 1000,
  ) {}

  /** Consumes every event under `subjectRoot` (all services' events) on one durable consumer, in batches. */
  async start(bus: EventBus, subjectRoot: string): Promise<void> {
    this.subscription = await bus.subscribeBatches(
      { durableName: AUDIT_CONSUMER, filterSubjects: [`${subjectRoot}.>`], maxBatchSize: this.maxBatchSize },
      (batch) => this.recordBatch(batch.map(({ event }) => event)).then(() => undefined),
    );
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }

  async record(event: EventEnvelope): Promise<StoredTreeHead | undefined> {
    return this.recordBatch([event]);
  }

  /** Appends the events not seen before; returns the tree head signed for them (none when all were duplicates). */
  async recordBatch(events: EventEnvelope[]): Promise<StoredTreeHead | undefined> {
    for (const event of events) {
      if (!UUID.test(event.id)) throw new Error(`event id ${JSON.stringify(event.id)} is not a UUID`);
    }
    const head = await this.database.dataSource.transaction(async (manager) => {
      const state = await this.writer.lock(manager);
      const fresh = await this.markProcessed(manager, events.map((event) => event.id));
      const seen = new Set<string>();
      const entries = events.filter((event) => fresh.has(event.id) && !seen.has(event.id) && seen.add(event.id));
      return this.writer.append(manager, state, entries.map((event) => this.entryOf(event)));
    });
    this.logger.debug({ events: events.length, treeSize: head?.treeSize }, 'audit entries recorded');
    return head;
  }

  /** Appends entries the service itself produces (retention records), with the caller's writes in the same commit. */
  async appendOwn(entries: NewAuditEntry[], alongside: (manager: EntityManager) => Promise<void>): Promise<StoredTreeHead | undefined> {
    return this.database.dataSource.transaction(async (manager) => {
      const state = await this.writer.lock(manager);
      await alongside(manager);
      return this.writer.append(manager, state, entries.map((entry) => ({ ...entry, details: this.hasher.hashDetails(entry.details) })));
    });
  }

  private async markProcessed(manager: EntityManager, eventIds: string[]): Promise<Set<string>> {
    const inserted = (await manager.query(
      `INSERT INTO ${AUDIT_SCHEMA}.processed_events (consumer, event_id)
       SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING event_id`,
      [AUDIT_CONSUMER, [...new Set(eventIds)]],
    )) as Array<{ event_id: string }>;
    return new Set(inserted.map((row) => row.event_id));
  }

  private entryOf(event: EventEnvelope): NewAuditEntry {
    const [resourceType, resourceId] = splitSubject(event.subject);
    return {
      id: event.id,
      eventType: event.type,
      actorId: event.actor?.id || null,
      actorType: event.actor?.type || 'system',
      resourceType,
      resourceId,
      action: actionOf(event.type),
      details: this.hasher.hashDetails((event.payload ?? {}) as Record<string, unknown>),
      ipAddress: validIp(event.actor?.ipAddress),
      userAgent: event.actor?.userAgent || null,
      source: event.source,
      correlationId: event.correlationId || null,
      createdAt: event.time ? timestampDate(event.time) : new Date(),
    };
  }
}

/** `configs/acme/app/model@production` → [`configs`, `acme/app/model@production`]. */
function splitSubject(subject: string): [string | null, string | null] {
  if (!subject) return [null, null];
  const slash = subject.indexOf('/');
  // Empty parts are stored as null: the API and the export format cannot tell an empty string from a missing value.
  return slash < 0 ? [subject, null] : [subject.slice(0, slash) || null, subject.slice(slash + 1) || null];
}

/** `config.updated` → `updated`. */
function actionOf(type: string): string {
  return type.slice(type.lastIndexOf('.') + 1) || type;
}

/** The inet column refuses anything that is not an address; an unparseable one is dropped, not the event. */
function validIp(ip: string | undefined): string | null {
  if (!ip) return null;
  return /^[0-9a-fA-F:.]+$/.test(ip) && isIP(ip) !== 0 ? ip : null;
}
