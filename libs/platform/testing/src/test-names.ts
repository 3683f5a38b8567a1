import { randomBytes } from 'node:crypto';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** A name no other suite uses (databases, Redis key prefixes, NATS streams): `<prefix>_<random>`, only [a-z0-9_]. */
export function uniqueName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return `${clean}_${randomBytes(5).toString('hex')}`;
}
