import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const AES_256_KEY_BYTES = 32;
export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;

export interface AesGcmSealed {
  ciphertext: Buffer;
  nonce: Buffer;
  authTag: Buffer;
}

/** AES-256-GCM under a fresh random 96-bit nonce; a key never meets the same nonce twice with random nonces this size. */
export function aes256GcmEncrypt(key: Buffer, plaintext: Buffer, aad: Buffer): AesGcmSealed {
  const nonce = randomBytes(GCM_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, nonce, authTag: cipher.getAuthTag() };
}

/**
 * The plaintext, or undefined when the ciphertext, nonce, tag or AAD fails authentication; callers turn that into
 * their own error, so nothing of the input ends up in a message.
 */
export function aes256GcmDecrypt(key: Buffer, sealed: AesGcmSealed, aad: Buffer): Buffer | undefined {
  if (sealed.nonce.length !== GCM_NONCE_BYTES || sealed.authTag.length !== GCM_TAG_BYTES) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce, { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.authTag);
  // GCM releases bytes before the tag is checked; they are zeroed whether or not it passes.
  const head = decipher.update(sealed.ciphertext);
  try {
    const tail = decipher.final();
    const plaintext = Buffer.concat([head, tail]);
    tail.fill(0);
    return plaintext;
  } catch {
    return undefined;
  } finally {
    head.fill(0);
  }
}
