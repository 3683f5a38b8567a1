import type { SecretRotator } from '../secret-rotator.js';
import { RandomTokenRotator } from './random-token.rotator.js';

/** The rotators the service ships, most specific first. */
export function defaultRotators(): SecretRotator[] {
  return [new RandomTokenRotator()];
}
