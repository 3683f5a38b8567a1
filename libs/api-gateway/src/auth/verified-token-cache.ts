import { createHash } from 'node:crypto';
import type { Principal } from '@llmops/platform-auth';

/**
 * Principals of access tokens already verified, until the token expires. An RS256 verification costs about half a
 * millisecond, paid on every request otherwise; access tokens are not revocable before expiry anyway. Keys are
 * token hashes, so the cache holds no usable credential; the oldest entry goes first when full.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { principal: Principal; expiresAtMs: number }>();

  constructor(private readonly maxEntries = 10_000) {}

  get(token: string, nowMs = Date.now()): Principal | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= nowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.principal;
  }

  set(token: string, principal: Principal, expiresAtMs: number): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(keyOf(token), { principal, expiresAtMs });
  }
}

function keyOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
