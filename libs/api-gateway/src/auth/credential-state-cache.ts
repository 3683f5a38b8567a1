import { LRUCache } from 'lru-cache';
import type { ApiKeyRow } from '../api-keys/api-keys.service.js';

/** A user's state as each request checks it; `missing` when the account is gone. */
export type UserCredentialState = { authz_version: number; disabled_at: Date | null } | { missing: true };
/** An API key's row with its owner's state and tenant, as authentication reads it; `missing` when there is no such key. */
export type ApiKeyCredentialState = { row: ApiKeyRow & { owner_inactive: boolean; owner_tenant_id: string | null } } | { missing: true };

/** How long a replica may act on an account's or key's state before reading it again. */
export const CREDENTIAL_STATE_TTL_MS = 1_000;

/**
 * The database state behind a credential (a user's authorization version and whether they are disabled, an API key's
 * row), reused for one second. Without it every authenticated request pays a database read before anything else; with
 * it a revoked key, a disabled user or changed role bindings take effect within a second on other replicas, and at once
 * on the replica that made the change (it forgets the entry).
 */
export class CredentialStateCache {
  readonly users: LRUCache<string, UserCredentialState>;
  readonly apiKeys: LRUCache<string, ApiKeyCredentialState>;

  constructor(ttlMs = CREDENTIAL_STATE_TTL_MS, maxEntries = 10_000) {
    this.users = new LRUCache<string, UserCredentialState>({ max: maxEntries, ttl: ttlMs });
    this.apiKeys = new LRUCache<string, ApiKeyCredentialState>({ max: maxEntries, ttl: ttlMs });
  }

  forgetUser(userId: string): void {
    this.users.delete(userId);
    // A user's keys carry the owner's state (a disabled owner's keys stop working).
    this.apiKeys.clear();
  }

  forgetApiKey(apiKeyId: string): void {
    this.apiKeys.delete(apiKeyId);
  }
}
