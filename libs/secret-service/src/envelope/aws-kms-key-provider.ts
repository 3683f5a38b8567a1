import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { SecretException, SecretExceptionCode } from '../secrets/exceptions/secret.exception.js';
import { AES_256_KEY_BYTES } from './aes-256-gcm.js';
import { assertDecryptableVersion, type KeyEncryptionProvider } from './key-encryption-provider.js';
import { describeBinding, type SecretBinding } from './secret-binding.js';

const POSITIVE_INTEGER = /^[1-9][0-9]*$/;

/**
 * KEKs held in AWS KMS: each KEK version is a KMS key, the highest version wraps new data keys. Encrypt and Decrypt
 * carry the binding as EncryptionContext, so KMS itself refuses a wrapped key presented for another row.
 */
export class AwsKmsKeyProvider implements KeyEncryptionProvider {
  readonly name = 'aws-kms' as const;
  private readonly client: KMSClient;
  private readonly keys: ReadonlyMap<number, string>;
  private readonly current: number;
  private readonly minimum: number;

  constructor(options: { client: KMSClient; keys: Record<number, string>; minDecryptionVersion?: number; currentVersion?: number }) {
    this.client = options.client;
    this.keys = new Map(Object.entries(options.keys).map(([version, keyId]) => [Number(version), keyId]));
    const versions = [...this.keys.keys()];
    if (versions.length === 0 || versions.some((version) => !Number.isSafeInteger(version) || version < 1)) {
      throw new Error('AWS KMS key provider needs KEK versions that are positive integers, at least one');
    }
    // Not always the highest: a rolling deploy lists a new version everywhere before any replica encrypts with it.
    this.current = options.currentVersion ?? Math.max(...versions);
    if (!this.keys.has(this.current)) {
      throw new Error(`AWS KMS current KEK version ${this.current} is not among the listed versions (${versions.sort((a, b) => a - b).join(', ')})`);
    }
    this.minimum = options.minDecryptionVersion ?? Math.min(...versions);
    if (!Number.isSafeInteger(this.minimum) || this.minimum < 1 || this.minimum > this.current) {
      throw new Error(
        `AWS KMS min_decryption_version must be an integer from 1 to the current KEK version ${this.current}, got ${this.minimum}`,
      );
    }
  }

  /** Parses "1=arn:aws:kms:…,2=alias/x" (KEK version = KMS key id, ARN or alias); errors name every bad entry. */
  static keysFrom(spec: string): Record<number, string> {
    const keys: Record<number, string> = {};
    const problems: string[] = [];
    spec.split(',').forEach((rawEntry, index) => {
      const entry = rawEntry.trim();
      const separator = entry.indexOf('=');
      const version = entry.slice(0, Math.max(separator, 0)).trim();
      const keyId = entry.slice(separator + 1).trim();
      if (separator < 0 || !POSITIVE_INTEGER.test(version) || keyId === '') {
        problems.push(`entry ${index + 1} "${entry}" is not <version>=<key id, ARN or alias>`);
      } else if (Number(version) in keys) {
        problems.push(`entry ${index + 1} repeats version ${version}`);
      } else {
        keys[Number(version)] = keyId;
      }
    });
    if (problems.length > 0) {
      throw new Error(`AWS KMS key list is invalid: ${problems.join('; ')} (expected "1=arn:aws:kms:…,2=alias/…")`);
    }
    return keys;
  }

  currentKeyVersion(): number {
    return this.current;
  }

  minDecryptionVersion(): number {
    return this.minimum;
  }

  versions(): number[] {
    return [...this.keys.keys()].sort((a, b) => a - b);
  }

  async wrapKey(dek: Buffer, binding: SecretBinding): Promise<{ wrappedDek: Buffer; kekVersion: number }> {
    const kekVersion = this.current;
    const response = await this.call('Encrypt', kekVersion, binding, () =>
      this.client.send(
        new EncryptCommand({
          KeyId: this.keys.get(kekVersion),
          Plaintext: dek,
          EncryptionContext: encryptionContext(binding),
        }),
      ),
    );
    if (!response.CiphertextBlob) {
      throw new SecretException(
        SecretExceptionCode.KeyUnavailable,
        `AWS KMS Encrypt with KEK version ${kekVersion} returned no ciphertext`,
      );
    }
    return { wrappedDek: Buffer.from(response.CiphertextBlob), kekVersion };
  }

  async unwrapKey(wrappedDek: Buffer, kekVersion: number, binding: SecretBinding): Promise<Buffer> {
    assertDecryptableVersion(this, kekVersion, this.keys.has(kekVersion));
    const response = await this.call('Decrypt', kekVersion, binding, () =>
      this.client.send(
        new DecryptCommand({
          // Naming the key makes KMS refuse a blob wrapped by another key rather than use whichever key it names.
          KeyId: this.keys.get(kekVersion),
          CiphertextBlob: wrappedDek,
          EncryptionContext: encryptionContext(binding),
        }),
      ),
    );
    const plaintext = response.Plaintext;
    try {
      if (plaintext?.length !== AES_256_KEY_BYTES) {
        throw new SecretException(
          SecretExceptionCode.DecryptionFailed,
          `${describeBinding(binding)}: AWS KMS did not return a 32-byte data key for KEK version ${kekVersion}`,
        );
      }
      return Buffer.from(plaintext);
    } finally {
      plaintext?.fill(0);
    }
  }

  /**
   * Maps KMS failures to domain errors by the AWS error name only (KMS messages can quote request data).
   * InvalidCiphertextException means the blob or its encryption context did not authenticate: that is an altered
   * row, not an unavailable key, so it is DecryptionFailed like the local keyring's tag failure.
   */
  private async call<T>(operation: string, kekVersion: number, binding: SecretBinding, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      const errorName = error instanceof Error ? error.name : 'UnknownError';
      if (errorName === 'InvalidCiphertextException') {
        throw new SecretException(
          SecretExceptionCode.DecryptionFailed,
          `${describeBinding(binding)} failed authentication: AWS KMS refused its data key for KEK version ` +
            `${kekVersion} (wrapped key or binding was altered)`,
        );
      }
      throw new SecretException(
        SecretExceptionCode.KeyUnavailable,
        `AWS KMS ${operation} with KEK version ${kekVersion} failed: ${errorName}`,
      );
    }
  }
}

function encryptionContext(binding: SecretBinding): Record<string, string> {
  return { path: binding.path, version: String(binding.version) };
}
