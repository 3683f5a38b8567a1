import { outboxMigrationSql } from '@llmops/platform-messaging';
import { sqlMigration } from '@llmops/platform-persistence';
import { GATEWAY_SCHEMA } from './1763800000000-CreateIdentity.js';

const outbox = outboxMigrationSql(GATEWAY_SCHEMA);

/** The gateway's own outbox, for the security events it records (logins, denials, API-key changes). */
export const AddOutbox1763800000001 = sqlMigration('AddOutbox1763800000001', outbox.up, outbox.down);
