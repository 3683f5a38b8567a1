import { randomUUID } from 'node:crypto';
import { create, type JsonObject } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { ActorSchema, EVENTS_SUBJECT_ROOT, EventEnvelopeSchema, type EventEnvelope } from '@llmops/contracts';
import type { EntityManager } from 'typeorm';
import { encodeEvent } from './event-codec.js';
import { qualifiedTable } from './sql-identifier.js';

export interface EventInput {
  type: string;
  /** The resource the event is about, e.g. `configs/acme/app/model@production`. */
  subject: string;
  payload: JsonObject;
  actor?: { id: string; type: string; ipAddress?: string; userAgent?: string };
  correlationId?: string;
}

export interface OutboxOptions {
  /** Emitting service, e.g. `config-manager`. */
  source: string;
  /** The service's database schema, which holds its `outbox` table. */
  schema: string;
  /** NATS subject root; tests use their own so suites do not see each other's events. */
  subjectRoot?: string;
}

/**
 * Writes events in the caller's transaction, so an event exists if and only if the state change it announces was
 * committed. {@link OutboxRelay} publishes them afterwards.
 */
export class Outbox {
  private readonly table: string;
  private readonly subjectPrefix: string;

  constructor(private readonly options: OutboxOptions) {
    this.table = qualifiedTable(options.schema, 'outbox');
    this.subjectPrefix = `${options.subjectRoot ?? EVENTS_SUBJECT_ROOT}.${options.source}`;
  }

  async add(manager: EntityManager, event: EventInput): Promise<EventEnvelope> {
    const row = this.rowOf(event);
    await manager.query(`INSERT INTO ${this.table} (id, subject, envelope) VALUES ($1, $2, $3)`, [row.id, row.subject, row.envelope]);
    return row.event;
  }

  /**
   * The outbox row for `event`, for a caller that inserts it in the same statement as its own change (one round trip
   * less on a hot write path): `INSERT INTO <table> (id, subject, envelope) VALUES (id, subject, envelope)`.
   */
  rowOf(event: EventInput): { table: string; id: string; subject: string; envelope: Buffer; event: EventEnvelope } {
    const envelope = create(EventEnvelopeSchema, {
      id: randomUUID(),
      type: event.type,
      source: this.options.source,
      subject: event.subject,
      time: timestampNow(),
      actor: event.actor ? create(ActorSchema, event.actor) : undefined,
      payload: event.payload,
      correlationId: event.correlationId ?? '',
    });
    // Same shape as eventSubject(source, type) from the contracts, with a configurable root.
    const subject = `${this.subjectPrefix}.${event.type}`;
    return { table: this.table, id: envelope.id, subject, envelope: Buffer.from(encodeEvent(envelope)), event: envelope };
  }
}
