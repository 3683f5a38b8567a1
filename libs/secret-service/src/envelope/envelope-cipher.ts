import { randomBytes } from 'node:crypto';
import { SecretException, SecretExceptionCode } from '../secrets/exceptions/secret.exception.js';
import { AES_256_KEY_BYTES, aes256GcmDecrypt, aes256GcmEncrypt } from './aes-256-gcm.js';
import type { KeyEncryptionProvider } from './key-encryption-provider.js';
import { describeBinding, encodeBinding, type SecretBinding } from './secret-binding.js';

export interface SealedSecret {
  algorithm: 'AES-256-GCM';
  ciphertext: Buffer;
  nonce: Buffer;
  authTag: Buffer;
  /** The data key, wrapped by the KEK of `kekVersion`. */
  wrappedDek: Buffer;
  kekVersion: number;
}

/**
 * Envelope encryption (seed 001 §3.1): each secret version gets its own data key (DEK) that encrypts the value with
 * AES-256-GCM, the secret's path and version bound as AAD; the provider's KEK wraps the DEK. Rotating the KEK only
 * rewraps DEKs; ciphertexts never change.
 */
export class EnvelopeCipher {
  constructor(private readonly provider: KeyEncryptionProvider) {}

  async seal(plaintext: Buffer, binding: SecretBinding): Promise<SealedSecret> {
    const aad = encodeBinding(binding);
    const dek = randomBytes(AES_256_KEY_BYTES);
    try {
      const { ciphertext, nonce, authTag } = aes256GcmEncrypt(dek, plaintext, aad);
      const { wrappedDek, kekVersion } = await this.provider.wrapKey(dek, binding);
      return { algorithm: 'AES-256-GCM', ciphertext, nonce, authTag, wrappedDek, kekVersion };
    } finally {
      dek.fill(0);
    }
  }

  /** The plaintext; the caller zeroes it after use. */
  async open(sealed: SealedSecret, binding: SecretBinding): Promise<Buffer> {
    const aad = encodeBinding(binding);
    if (sealed.algorithm !== 'AES-256-GCM') {
      throw new SecretException(
        SecretExceptionCode.DecryptionFailed,
        `${describeBinding(binding)} uses an unsupported algorithm`,
      );
    }
    const dek = await this.provider.unwrapKey(sealed.wrappedDek, sealed.kekVersion, binding);
    try {
      const plaintext = aes256GcmDecrypt(dek, sealed, aad);
      if (!plaintext) {
        throw new SecretException(
          SecretExceptionCode.DecryptionFailed,
          `${describeBinding(binding)} failed authentication: ciphertext, nonce, tag or binding was altered`,
        );
      }
      return plaintext;
    } finally {
      dek.fill(0);
    }
  }

  /** Re-wraps the DEK under the current KEK version; ciphertext, nonce and tag are unchanged. */
  async rewrap(sealed: SealedSecret, binding: SecretBinding): Promise<SealedSecret> {
    if (sealed.kekVersion === this.provider.currentKeyVersion()) return sealed;
    const dek = await this.provider.unwrapKey(sealed.wrappedDek, sealed.kekVersion, binding);
    try {
      const { wrappedDek, kekVersion } = await this.provider.wrapKey(dek, binding);
      return { ...sealed, wrappedDek, kekVersion };
    } finally {
      dek.fill(0);
    }
  }
}
