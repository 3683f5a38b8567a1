import { hash, verify } from '@node-rs/argon2';

/**
 * OWASP Password Storage Cheat Sheet minimum for argon2id (m=19 MiB, t=2, p=1). The algorithm is the library's
 * default, argon2id; its `Algorithm` is an ambient const enum, which isolatedModules cannot reference.
 */
export const PASSWORD_HASH_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * A hash of a random password with the same parameters, so verifying against it costs what a real check costs.
 * Embedded rather than computed at start so the first unknown-email login is not slower. Regenerate it when the
 * parameters change (a spec checks that they match).
 */
export const DUMMY_PASSWORD_HASH = '$argon2id$v=19$m=19456,t=2,p=1$DPnE1JkbJI7o0afllOGrqw$1ZCmeH+JjIOzZiFw+d59bvYTF+8RIZ1btfZbswINlAs';

export function hashPassword(password: string): Promise<string> {
  return hash(password, PASSWORD_HASH_OPTIONS);
}

/** False for a wrong password and for a stored hash that is not a valid argon2 string. */
export async function verifyPassword(password: string, passwordHash: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/**
 * For logins: with no stored hash (unknown email) verify against the dummy hash and answer false, so the response
 * time does not reveal which emails have accounts.
 */
export async function verifyPasswordOrDummy(password: string, passwordHash: string | null | undefined): Promise<boolean> {
  if (passwordHash) return verifyPassword(password, passwordHash);
  await verifyPassword(password, DUMMY_PASSWORD_HASH);
  return false;
}
