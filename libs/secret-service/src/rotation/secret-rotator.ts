import type { SecretRecord } from '../secrets/secret-records.js';

/**
 * A plugin that rotates one kind of secret through the zero-downtime steps of seed 001 §3.3. The rotation use case
 * stores, schedules and audits; a rotator only talks to the system the secret unlocks.
 */
export interface SecretRotator {
  readonly name: string;
  supports(secret: SecretRecord, current: string): boolean;
  /** Step 1: a new value of the same shape, already valid wherever it must be (e.g. the password set on the role). */
  generate(current: string, secret: SecretRecord): Promise<string>;
  /** Step 2: proves the new value works (connects, signs); throwing aborts the rotation before anything is stored. */
  test(candidate: string, secret: SecretRecord): Promise<void>;
  /** Step 5: how many clients still use the previous value (e.g. sessions of its role); revocation waits for 0. */
  activeUsers?(previous: string, secret: SecretRecord): Promise<number>;
  /** Step 6: makes the previous value stop working. */
  revoke(previous: string, current: string, secret: SecretRecord): Promise<void>;
}

/** Finds the rotator for a secret; the first that supports it wins, so specific rotators go before general ones. */
export class SecretRotators {
  constructor(private readonly rotators: readonly SecretRotator[]) {}

  for(secret: SecretRecord, current: string): SecretRotator | undefined {
    return this.rotators.find((rotator) => rotator.supports(secret, current));
  }
}
