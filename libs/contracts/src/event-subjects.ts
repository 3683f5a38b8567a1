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
  /** config-manager refused a call for want of a permission (the gateway records its own refusals as authz.denied). */
  AccessDenied: 'config.access_denied',
} as const;
export type ConfigEventType = (typeof ConfigEventType)[keyof typeof ConfigEventType];

/** LLM configuration events emitted by config-manager (seed 001 §6); typed configs emit the ConfigEventType ones. */
export const LlmConfigEventType = {
  PromptVersionCreated: 'config.prompt_version_created',
  PromptLabelMoved: 'config.prompt_label_moved',
  PromptLabelDeleted: 'config.prompt_label_deleted',
  BudgetSet: 'config.budget_set',
  /** Month-to-date spend reached 80 % or 100 % of a budget; once per namespace, month and threshold. */
  BudgetThresholdCrossed: 'config.budget_threshold_crossed',
} as const;
export type LlmConfigEventType = (typeof LlmConfigEventType)[keyof typeof LlmConfigEventType];

/**
 * Events emitted by secret-service. Each is written in the same transaction as the change or disclosure it records,
 * so a secret is never revealed, written or rotated without its audit entry (fail closed). Payloads never hold values.
 */
export const SecretEventType = {
  Created: 'secret.created',
  Updated: 'secret.updated',
  /** A masked read: metadata only. */
  Read: 'secret.read',
  Revealed: 'secret.revealed',
  Rotated: 'secret.rotated',
  RotationFailed: 'secret.rotation_failed',
  PreviousVersionRevoked: 'secret.previous_version_revoked',
  VersionsDeleted: 'secret.versions_deleted',
  VersionsUndeleted: 'secret.versions_undeleted',
  VersionsDestroyed: 'secret.versions_destroyed',
  Deleted: 'secret.deleted',
  AccessDenied: 'secret.access_denied',
  KeyRotated: 'secret.kek_rotated',
} as const;
export type SecretEventType = (typeof SecretEventType)[keyof typeof SecretEventType];

/** Security events emitted by the api-gateway (seed 001 §9.3: authentication, authorization, permission changes). */
export const SecurityEventType = {
  LoginSucceeded: 'auth.login_succeeded',
  LoginFailed: 'auth.login_failed',
  AccessDenied: 'authz.denied',
  ApiKeyCreated: 'api_key.created',
  ApiKeyRevoked: 'api_key.revoked',
  UserCreated: 'user.created',
  UserDisabled: 'user.disabled',
  /** The role bindings of a user or an API key were replaced; the payload holds the old and the new set. */
  RoleBindingChanged: 'role_binding.changed',
} as const;
export type SecurityEventType = (typeof SecurityEventType)[keyof typeof SecurityEventType];
