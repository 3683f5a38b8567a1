import { outboxMigrationSql } from '@llmops/platform-messaging';
import { sqlMigration } from '@llmops/platform-persistence';

export const AUDIT_SCHEMA = 'audit_service';
const messaging = outboxMigrationSql(AUDIT_SCHEMA);

/** seed 000's audit_logs, partitioned by month; a default partition means no event is ever refused for its date. */
export const CreateAuditLogs1763800000000 = sqlMigration(
  'CreateAuditLogs1763800000000',
  [
    `CREATE TABLE audit_service.audit_logs (
       id uuid NOT NULL,
       event_type varchar(100) NOT NULL,
       actor_id text,
       actor_type varchar(50) NOT NULL,
       resource_type varchar(100),
       resource_id varchar(512),
       action varchar(100) NOT NULL,
       details jsonb NOT NULL DEFAULT '{}',
       ip_address inet,
       user_agent text,
       source varchar(100) NOT NULL,
       correlation_id text,
       created_at timestamptz NOT NULL,
       received_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (id, created_at)
     ) PARTITION BY RANGE (created_at)`,
    `CREATE TABLE audit_service.audit_logs_default PARTITION OF audit_service.audit_logs DEFAULT`,
    `CREATE INDEX audit_logs_newest ON audit_service.audit_logs (created_at DESC, id DESC)`,
    `CREATE INDEX audit_logs_actor ON audit_service.audit_logs (actor_id, created_at DESC)`,
    `CREATE INDEX audit_logs_resource ON audit_service.audit_logs (resource_type, resource_id, created_at DESC)`,
    ...messaging.up,
  ],
  [...messaging.down, `DROP TABLE audit_service.audit_logs`],
);
