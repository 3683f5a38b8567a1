import { describe, expect, it } from '@jest/globals';
import type { AccessTokenClaims } from '@llmops/platform-auth';
import { VerifiedTokenCache } from './verified-token-cache.js';

const alice: AccessTokenClaims = { principal: { id: 'alice', type: 'user', roles: ['viewer'] }, sessionId: 's1', authzVersion: 1, expiresAt: new Date(2_000) };
const bob: AccessTokenClaims = { principal: { id: 'bob', type: 'user', roles: ['developer'] }, sessionId: 's2', expiresAt: new Date(2_000) };

describe(VerifiedTokenCache.name, () => {
  it('returns the claims until the token expires', () => {
    const cache = new VerifiedTokenCache();
    cache.set('token-a', alice, 2_000);
    expect(cache.get('token-a', 1_999)).toBe(alice);
    expect(cache.get('token-a', 2_000)).toBeUndefined();
    expect(cache.get('token-a', 1_000)).toBeUndefined();
  });

  it('never answers for a different token', () => {
    const cache = new VerifiedTokenCache();
    cache.set('token-a', alice, Number.MAX_SAFE_INTEGER);
    expect(cache.get('token-a.')).toBeUndefined();
    expect(cache.get('token-b')).toBeUndefined();
  });

  it('drops the oldest entry when full', () => {
    const cache = new VerifiedTokenCache(1);
    cache.set('token-a', alice, Number.MAX_SAFE_INTEGER);
    cache.set('token-b', bob, Number.MAX_SAFE_INTEGER);
    expect(cache.get('token-a')).toBeUndefined();
    expect(cache.get('token-b')).toBe(bob);
  });
});
