import { describe, expect, it } from '@jest/globals';
import { CredentialStateCache } from './credential-state-cache.js';

describe(CredentialStateCache.name, () => {
  it('reuses a state for its lifetime only, so another replica sees a change within it', async () => {
    const cache = new CredentialStateCache(50);
    cache.users.set('u-1', { authz_version: 1, disabled_at: null });
    expect(cache.users.get('u-1')).toEqual({ authz_version: 1, disabled_at: null });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(cache.users.get('u-1')).toBeUndefined();
  });

  it("forgets a user's keys with the user, since a key carries its owner's state", () => {
    const cache = new CredentialStateCache();
    cache.users.set('u-1', { authz_version: 1, disabled_at: null });
    cache.apiKeys.set('k-1', { missing: true });
    cache.apiKeys.set('k-2', { missing: true });
    cache.forgetApiKey('k-2');
    expect(cache.apiKeys.has('k-2')).toBe(false);
    cache.forgetUser('u-1');
    expect(cache.users.has('u-1')).toBe(false);
    expect(cache.apiKeys.has('k-1')).toBe(false);
  });
});
