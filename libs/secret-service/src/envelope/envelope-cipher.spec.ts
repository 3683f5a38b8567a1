import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { SecretException, SecretExceptionCode } from '../secrets/exceptions/secret.exception.js';
import { EnvelopeCipher, type SealedSecret } from './envelope-cipher.js';
import { LocalKeyring } from './local-keyring.js';
import type { SecretBinding } from './secret-binding.js';

const binding: SecretBinding = { path: 'prod/openai/api-key', version: 3 };
const plaintext = Buffer.from('sk-live-0123456789');

const environmentKeyring = (): Promise<LocalKeyring> =>
  LocalKeyring.open({ dataDir: '/nonexistent', keyring: `1:${randomBytes(32).toString('base64')}` });

/** Awaits `action` and returns the SecretException it threw. */
async function secretError(action: Promise<unknown>): Promise<SecretException> {
  const error = await action.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof SecretException)) throw new Error(`expected a SecretException, got ${String(error)}`);
  return error;
}

/** A copy of `buffer` with one bit flipped. */
const flipped = (buffer: Buffer, index = 0): Buffer => {
  const copy = Buffer.from(buffer);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
};

describe(EnvelopeCipher.name, () => {
  it('opens what it sealed, without the plaintext in any stored field', async () => {
    const cipher = new EnvelopeCipher(await environmentKeyring());

    const sealed = await cipher.seal(plaintext, binding);

    expect(sealed).toMatchObject({ algorithm: 'AES-256-GCM', kekVersion: 1 });
    expect(sealed.nonce).toHaveLength(12);
    expect(sealed.authTag).toHaveLength(16);
    for (const field of [sealed.ciphertext, sealed.wrappedDek]) expect(field.includes(plaintext)).toBe(false);
    expect(await cipher.open(sealed, binding)).toEqual(plaintext);
  });

  it('uses a fresh data key and nonce for every seal', async () => {
    const cipher = new EnvelopeCipher(await environmentKeyring());

    const [first, second] = await Promise.all([cipher.seal(plaintext, binding), cipher.seal(plaintext, binding)]);

    expect(first!.nonce.equals(second!.nonce)).toBe(false);
    expect(first!.wrappedDek.equals(second!.wrappedDek)).toBe(false);
    expect(first!.ciphertext.equals(second!.ciphertext)).toBe(false);
  });

  const tampered: Array<[string, (sealed: SealedSecret) => SealedSecret]> = [
    ['ciphertext', (sealed) => ({ ...sealed, ciphertext: flipped(sealed.ciphertext) })],
    ['nonce', (sealed) => ({ ...sealed, nonce: flipped(sealed.nonce) })],
    ['auth tag', (sealed) => ({ ...sealed, authTag: flipped(sealed.authTag) })],
    ['auth tag (truncated)', (sealed) => ({ ...sealed, authTag: sealed.authTag.subarray(0, 12) })],
    ['wrapped DEK (its nonce)', (sealed) => ({ ...sealed, wrappedDek: flipped(sealed.wrappedDek, 0) })],
    ['wrapped DEK (its body)', (sealed) => ({ ...sealed, wrappedDek: flipped(sealed.wrappedDek, 40) })],
    ['wrapped DEK (truncated)', (sealed) => ({ ...sealed, wrappedDek: sealed.wrappedDek.subarray(1) })],
  ];
  it.each(tampered)('refuses an altered %s with DecryptionFailed', async (_field, alter) => {
    const cipher = new EnvelopeCipher(await environmentKeyring());
    const sealed = await cipher.seal(plaintext, binding);

    const error = await secretError(cipher.open(alter(sealed), binding));

    expect(error.code).toBe(SecretExceptionCode.DecryptionFailed);
    expect(error.message).toContain('secret prod/openai/api-key version 3 failed authentication');
    expect(error.message).not.toContain(plaintext.toString());
  });

  const otherRows: Array<[string, SecretBinding, SecretBinding]> = [
    ['another path', binding, { ...binding, path: 'prod/anthropic/api-key' }],
    ['another version', binding, { ...binding, version: 4 }],
    // Plain concatenation of path and version would make these two the same AAD.
    ['a path/version split elsewhere', { path: 'a/b', version: 12 }, { path: 'a/b1', version: 2 }],
  ];
  it.each(otherRows)('refuses a value moved to %s with DecryptionFailed', async (_case, writtenFor, readAs) => {
    const cipher = new EnvelopeCipher(await environmentKeyring());
    const sealed = await cipher.seal(plaintext, writtenFor);

    const error = await secretError(cipher.open(sealed, readAs));

    expect(error.code).toBe(SecretExceptionCode.DecryptionFailed);
    expect(error.message).toContain(`secret ${readAs.path} version ${readAs.version}`);
  });

  it('refuses an unknown KEK version with KeyUnavailable naming it', async () => {
    const cipher = new EnvelopeCipher(await environmentKeyring());
    const sealed = await cipher.seal(plaintext, binding);

    const error = await secretError(cipher.open({ ...sealed, kekVersion: 7 }, binding));

    expect(error.code).toBe(SecretExceptionCode.KeyUnavailable);
    expect(error.message).toContain('KEK version 7');
  });

  it('zeroes the data key after wrapping it and after using it', async () => {
    const keyring = await environmentKeyring();
    const wrapKey = jest.spyOn(keyring, 'wrapKey');
    const unwrapKey = jest.spyOn(keyring, 'unwrapKey');
    const cipher = new EnvelopeCipher(keyring);

    const sealed = await cipher.seal(plaintext, binding);
    const [dekGivenToWrap] = wrapKey.mock.calls[0]!;
    await cipher.open(sealed, binding);
    const unwrappedDek = await unwrapKey.mock.results[0]!.value;

    expect(dekGivenToWrap).toEqual(Buffer.alloc(32));
    expect(unwrappedDek).toEqual(Buffer.alloc(32));
  });

  it('zeroes the data key when wrapping it fails', async () => {
    const keyring = await environmentKeyring();
    const wrapKey = jest.spyOn(keyring, 'wrapKey').mockRejectedValue(new Error('KMS down'));

    await expect(new EnvelopeCipher(keyring).seal(plaintext, binding)).rejects.toThrow('KMS down');

    expect(wrapKey.mock.calls[0]![0]).toEqual(Buffer.alloc(32));
  });

  describe('KEK rotation', () => {
    let dataDir: string;
    beforeEach(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'envelope-cipher-'));
    });
    afterEach(async () => {
      await rm(dataDir, { recursive: true, force: true });
    });

    it('seals new values under the new version at once while old ones still open, until rewrapped and retired', async () => {
      const keyring = await LocalKeyring.open({ dataDir });
      const cipher = new EnvelopeCipher(keyring);
      const old = await cipher.seal(plaintext, binding);

      await keyring.rotate();
      const fresh = await cipher.seal(plaintext, { ...binding, version: 4 });

      expect(old.kekVersion).toBe(1);
      expect(fresh.kekVersion).toBe(2);
      expect(await cipher.open(old, binding)).toEqual(plaintext);

      const rewrapped = await cipher.rewrap(old, binding);
      expect(rewrapped.kekVersion).toBe(2);
      expect(rewrapped.wrappedDek.equals(old.wrappedDek)).toBe(false);
      expect(rewrapped).toMatchObject({ ciphertext: old.ciphertext, nonce: old.nonce, authTag: old.authTag });
      expect(await cipher.rewrap(rewrapped, binding)).toBe(rewrapped);

      await keyring.raiseMinDecryptionVersion(2);
      expect(await cipher.open(rewrapped, binding)).toEqual(plaintext);
      const retired = await secretError(cipher.open(old, binding));
      expect(retired.code).toBe(SecretExceptionCode.KeyUnavailable);
      expect(retired.message).toContain('KEK version 1');
      expect(retired.message).toContain('min_decryption_version 2');
    });

    it('does not rewrap a value for another row', async () => {
      const keyring = await LocalKeyring.open({ dataDir });
      const cipher = new EnvelopeCipher(keyring);
      const old = await cipher.seal(plaintext, binding);
      await keyring.rotate();

      const error = await secretError(cipher.rewrap(old, { ...binding, version: 9 }));

      expect(error.code).toBe(SecretExceptionCode.DecryptionFailed);
    });
  });
});
