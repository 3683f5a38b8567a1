import type { SecretRotator } from '../secret-rotator.js';
import { JwtSigningKeyRotator } from './jwt-signing-key.rotator.js';
import { PostgresPasswordRotator } from './postgres-password.rotator.js';
import { RandomTokenRotator } from './random-token.rotator.js';

/** The rotators the service ships, most specific first. */
export function defaultRotators(): SecretRotator[] {
  return [new PostgresPasswordRotator(), new JwtSigningKeyRotator(), new RandomTokenRotator()];
}
