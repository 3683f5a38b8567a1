import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { generateApiKey, parseApiKey, verifyApiKeySecret } from './api-key.js';

describe('API keys', () => {
  it('generates llmk_<id>_<secret> and stores only the SHA-256 of the secret', () => {
    const generated = generateApiKey();
    expect(generated.key).toMatch(/^llmk_[0-9A-Za-z]{17}_[0-9A-Za-z]{43}$/);
    const parsed = parseApiKey(generated.key);
    expect(parsed).toEqual({ prefix: 'llmk', id: generated.id, secret: expect.any(String) });
    expect(generated.hash).toBe(createHash('sha256').update(parsed!.secret).digest('hex'));
    expect(generated.hash).not.toContain(parsed!.secret);
  });

  it('generates distinct keys, with a custom prefix', () => {
    const a = generateApiKey('svc');
    const b = generateApiKey({ prefix: 'svc' });
    expect(a.key.startsWith('svc_')).toBe(true);
    expect(a.id).not.toBe(b.id);
    expect(a.key).not.toBe(b.key);
  });

  it('verifies the secret against the stored hash', () => {
    const generated = generateApiKey();
    const { secret } = parseApiKey(generated.key)!;
    expect(verifyApiKeySecret(secret, generated.hash)).toBe(true);
  });

  it('rejects a tampered secret, a tampered hash and a malformed hash', () => {
    const generated = generateApiKey();
    const { secret } = parseApiKey(generated.key)!;
    const flipped = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    expect(verifyApiKeySecret(flipped, generated.hash)).toBe(false);
    expect(verifyApiKeySecret(secret, `${generated.hash.slice(0, -1)}${generated.hash.endsWith('0') ? '1' : '0'}`)).toBe(false);
    expect(verifyApiKeySecret(secret, 'short')).toBe(false);
  });

  it('with a pepper, stores an HMAC that only verifies with the same pepper', () => {
    const generated = generateApiKey({ pepper: 'server-side-pepper-123' });
    const { secret } = parseApiKey(generated.key)!;
    expect(verifyApiKeySecret(secret, generated.hash, 'server-side-pepper-123')).toBe(true);
    expect(verifyApiKeySecret(secret, generated.hash)).toBe(false);
    expect(verifyApiKeySecret(secret, generated.hash, 'another-pepper-4567')).toBe(false);
  });

  it('parses only well-formed keys', () => {
    const { key } = generateApiKey();
    expect(parseApiKey(`${key}x`)).toBeUndefined();
    expect(parseApiKey(key.replace(/_/g, '-'))).toBeUndefined();
    expect(parseApiKey('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln')).toBeUndefined();
    expect(parseApiKey('')).toBeUndefined();
  });
});
