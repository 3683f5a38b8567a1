import type { SecretType } from '@llmops/contracts';
import type { SecretRecord } from '../secrets/secret-records.js';

/** Another secret's current value, opened for a rotator (e.g. the admin credentials that may ALTER ROLE). */
export interface SecretForRotator {
  type: SecretType;
  value: string;
  labels: Record<string, unknown>;
}

/**
 * What a rotator may use besides the value it rotates. SecretRotation hands one to every step, inside its
 * transaction, and records which secrets were read in the step's audit event.
 */
export interface RotationContext {
  /** The current version of the secret at `path` in the rotated secret's environment. */
  readSecret(path: string): Promise<SecretForRotator>;
}

/**
 * A plugin that rotates one kind of secret through the zero-downtime steps of seed 001 §3.3. The rotation use case
 * stores, schedules and audits; a rotator only talks to the system the secret unlocks. Errors a rotator throws must
 * not carry secret material: a SecretException's message reaches the caller and the audit log as is.
 */
export interface SecretRotator {
  readonly name: string;
  supports(secret: SecretRecord, current: string): boolean;
  /** Step 1: a new value of the same shape, already valid wherever it must be (e.g. the password set on the role). */
  generate(current: string, secret: SecretRecord, context: RotationContext): Promise<string>;
  /** Step 2: proves the new value works (connects, signs); throwing aborts the rotation before anything is stored. */
  test(candidate: string, secret: SecretRecord, context: RotationContext): Promise<void>;
  /** Step 5: how many clients still use the previous value (e.g. sessions of its role); revocation waits for 0. */
  activeUsers?(previous: string, secret: SecretRecord, context: RotationContext): Promise<number>;
  /** Step 6: makes the previous value stop working. */
  revoke(previous: string, current: string, secret: SecretRecord, context: RotationContext): Promise<void>;
}

/** Finds the rotator for a secret; the first that supports it wins, so specific rotators go before general ones. */
export class SecretRotators {
  constructor(private readonly rotators: readonly SecretRotator[]) {}

  for(secret: SecretRecord, current: string): SecretRotator | undefined {
    return this.rotators.find((rotator) => rotator.supports(secret, current));
  }
}
