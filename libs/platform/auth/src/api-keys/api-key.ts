import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const DEFAULT_API_KEY_PREFIX = 'llmk';

export interface ApiKeyOptions {
  prefix?: string;
  /** Server-side secret mixed into the stored hash (HMAC-SHA-256), so a leaked table alone cannot check guesses. */
  pepper?: string;
}

export interface GeneratedApiKey {
  /** `<prefix>_<id>_<secret>`: shown to the user once, never stored. */
  key: string;
  id: string;
  /** What to store: hex SHA-256 (or HMAC with the pepper) of the secret. */
  hash: string;
}

export interface ParsedApiKey {
  prefix: string;
  id: string;
  secret: string;
}

const ID_BYTES = 12;
const SECRET_BYTES = 32;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const PREFIX = /^[a-z][a-z0-9]{1,15}$/;
// base62 keeps `_` free as the separator and the whole key one double-click selectable token.
const API_KEY = /^([a-z][a-z0-9]{1,15})_([0-9A-Za-z]{17})_([0-9A-Za-z]{43})$/;

export function generateApiKey(options: string | ApiKeyOptions = {}): GeneratedApiKey {
  const { prefix = DEFAULT_API_KEY_PREFIX, pepper } = typeof options === 'string' ? { prefix: options } : options;
  if (!PREFIX.test(prefix)) throw new RangeError(`API key prefix must match ${PREFIX.source}`);
  const id = base62(randomBytes(ID_BYTES), 17);
  const secret = base62(randomBytes(SECRET_BYTES), 43);
  return { key: `${prefix}_${id}_${secret}`, id, hash: hashApiKeySecret(secret, pepper) };
}

/** The parts of a well-formed key, or undefined (e.g. for a JWT, so callers can tell the two apart). */
export function parseApiKey(key: string): ParsedApiKey | undefined {
  const match = API_KEY.exec(key);
  if (!match) return undefined;
  return { prefix: match[1]!, id: match[2]!, secret: match[3]! };
}

export function hashApiKeySecret(secret: string, pepper?: string): string {
  return (pepper ? createHmac('sha256', pepper) : createHash('sha256')).update(secret).digest('hex');
}

/** Constant-time comparison against the stored hash; false for a malformed stored hash. */
export function verifyApiKeySecret(secret: string, storedHash: string, pepper?: string): boolean {
  if (!/^[0-9a-f]{64}$/i.test(storedHash)) return false;
  return timingSafeEqual(Buffer.from(hashApiKeySecret(secret, pepper), 'hex'), Buffer.from(storedHash, 'hex'));
}

/** Fixed-width base62 of `bytes` (left-padded), so keys always have the same shape. */
function base62(bytes: Buffer, width: number): string {
  let value = BigInt(`0x${bytes.toString('hex')}`);
  let digits = '';
  while (value > 0n) {
    digits = BASE62[Number(value % 62n)]! + digits;
    value /= 62n;
  }
  return digits.padStart(width, '0');
}
