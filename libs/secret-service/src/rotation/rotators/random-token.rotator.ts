import { randomBytes } from 'node:crypto';
import { SecretType } from '@llmops/contracts';
import type { SecretRecord } from '../../secrets/secret-records.js';
import type { SecretRotator } from '../secret-rotator.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** 43 base62 characters carry 256 bits. */
const TOKEN_LENGTH = 43;
/** A recognisable prefix such as `sk-` or `ghp_` is kept, so scanners and people still know what the token is. */
const PREFIX = /^([A-Za-z]{1,8}[-_])/;

/**
 * Rotates tokens the platform issues itself: a generic secret holding a token, or an API key of the `custom`
 * provider. A provider's key (OpenAI, Anthropic, …) is minted by the provider, so it is not ours to rotate.
 * Nothing outside holds these values, so revocation is the version being marked revoked.
 */
export class RandomTokenRotator implements SecretRotator {
  readonly name = 'random-token';

  supports(secret: SecretRecord, current: string): boolean {
    if (secret.type === SecretType.GENERIC) return !/\s/.test(current) && current.length >= 16;
    if (secret.type === SecretType.API_KEY) return apiKeyOf(current)?.provider === 'custom';
    return false;
  }

  async generate(current: string, secret: SecretRecord): Promise<string> {
    if (secret.type === SecretType.GENERIC) return freshToken(current);
    const apiKey = apiKeyOf(current)!;
    return JSON.stringify({ ...apiKey, key: freshToken(String(apiKey.key)) });
  }

  async test(candidate: string, secret: SecretRecord): Promise<void> {
    const token = secret.type === SecretType.GENERIC ? candidate : String(apiKeyOf(candidate)?.key ?? '');
    if (token.length < TOKEN_LENGTH) throw new Error('generated token is shorter than 256 bits');
  }

  async revoke(): Promise<void> {
    // Nothing outside the platform accepts these tokens; the version's revoked_at is the revocation.
  }
}

function freshToken(previous: string): string {
  const prefix = PREFIX.exec(previous)?.[1] ?? '';
  const bytes = randomBytes(TOKEN_LENGTH * 2);
  let token = '';
  // Rejection sampling keeps every character uniform (256 is not a multiple of 62).
  for (const byte of bytes) {
    if (byte < 248) token += ALPHABET[byte % 62];
    if (token.length === TOKEN_LENGTH) break;
  }
  bytes.fill(0);
  return token.length === TOKEN_LENGTH ? prefix + token : freshToken(previous);
}

function apiKeyOf(value: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
