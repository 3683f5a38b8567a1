import { createHash } from 'node:crypto';
import type { AccessTokenClaims } from '@llmops/platform-auth';

/**
 * Claims of access tokens already verified, until the token expires. An RS256 verification costs about half a
 * millisecond, paid on every request otherwise. Only the signature check is cached: whether the user is still
 * enabled and on the same authorization version is checked on every request. Keys are token hashes, so the cache
 * holds no usable credential; the oldest entry goes first when full.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { claims: AccessTokenClaims; expiresAtMs: number }>();

  constructor(private readonly maxEntries = 10_000) {}

  get(token: string, nowMs = Date.now()): AccessTokenClaims | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= nowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.claims;
  }

  set(token: string, claims: AccessTokenClaims, expiresAtMs: number): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(keyOf(token), { claims, expiresAtMs });
  }
}

function keyOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
