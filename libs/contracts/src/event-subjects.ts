/**
 * NATS subjects and JetStream names shared by publishers and consumers. Subjects are
 * `events.<source>.<type>`, so a consumer can filter by emitting service or by event type.
 */
export const EVENTS_STREAM = 'LLMOPS_EVENTS';
export const EVENTS_SUBJECT_ROOT = 'events';

export function eventSubject(source: string, type: string): string {
  return `${EVENTS_SUBJECT_ROOT}.${source}.${type}`;
}

/** Event types emitted by config-manager. */
export const ConfigEventType = {
  Created: 'config.created',
  Updated: 'config.updated',
  Deleted: 'config.deleted',
  RolledBack: 'config.rolled_back',
  Restored: 'config.restored',
  SettingsChanged: 'config.settings_changed',
} as const;
export type ConfigEventType = (typeof ConfigEventType)[keyof typeof ConfigEventType];

/** Security events emitted by the api-gateway (seed 001 §9.3: authentication, authorization, permission changes). */
export const SecurityEventType = {
  LoginSucceeded: 'auth.login_succeeded',
  LoginFailed: 'auth.login_failed',
  AccessDenied: 'authz.denied',
  ApiKeyCreated: 'api_key.created',
  ApiKeyRevoked: 'api_key.revoked',
} as const;
export type SecurityEventType = (typeof SecurityEventType)[keyof typeof SecurityEventType];
