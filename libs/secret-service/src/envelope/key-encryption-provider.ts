import { SecretException, SecretExceptionCode } from '../secrets/exceptions/secret.exception.js';
import type { SecretBinding } from './secret-binding.js';

/** Holds the key-encryption keys (KEKs) that wrap each secret version's data key; the KEKs never leave it. */
export interface KeyEncryptionProvider {
  readonly name: 'local' | 'aws-kms';
  /** The KEK version that wraps new data keys. */
  currentKeyVersion(): number;
  /** Data keys wrapped by a lower version no longer unwrap (Vault Transit's min_decryption_version). */
  minDecryptionVersion(): number;
  wrapKey(dek: Buffer, binding: SecretBinding): Promise<{ wrappedDek: Buffer; kekVersion: number }>;
  /** The caller zeroes the returned data key after use. */
  unwrapKey(wrappedDek: Buffer, kekVersion: number, binding: SecretBinding): Promise<Buffer>;
}

/** Refuses a KEK version that is retired or that the provider does not hold, naming the version only. */
export function assertDecryptableVersion(
  provider: Pick<KeyEncryptionProvider, 'name' | 'minDecryptionVersion'>,
  kekVersion: number,
  known: boolean,
): void {
  if (!known) {
    throw new SecretException(
      SecretExceptionCode.KeyUnavailable,
      `KEK version ${kekVersion} is unknown to the ${provider.name} key provider`,
    );
  }
  const minimum = provider.minDecryptionVersion();
  if (kekVersion < minimum) {
    throw new SecretException(
      SecretExceptionCode.KeyUnavailable,
      `KEK version ${kekVersion} is retired: below min_decryption_version ${minimum}`,
    );
  }
}
