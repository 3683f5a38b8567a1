import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { SecretException, SecretExceptionCode } from '../secrets/exceptions/secret.exception.js';
import { KEYRING_FILE_NAME, LocalKeyring } from './local-keyring.js';
import type { SecretBinding } from './secret-binding.js';

const binding: SecretBinding = { path: 'prod/db/password', version: 1 };
const newKey = (): string => randomBytes(32).toString('base64');

async function rejection(action: Promise<unknown>): Promise<Error> {
  const error = await action.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof Error)) throw new Error('expected the action to fail');
  return error;
}

/** Wraps a data key with one keyring and unwraps it with another: true when both hold the same KEK version. */
async function sharesKey(writer: LocalKeyring, reader: LocalKeyring): Promise<boolean> {
  const dek = randomBytes(32);
  const { wrappedDek, kekVersion } = await writer.wrapKey(Buffer.from(dek), binding);
  return (await reader.unwrapKey(wrappedDek, kekVersion, binding)).equals(dek);
}

describe(LocalKeyring.name, () => {
  describe('from a key file', () => {
    let dataDir: string;
    let keyFile: string;
    beforeEach(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'local-keyring-'));
      keyFile = join(dataDir, KEYRING_FILE_NAME);
    });
    afterEach(async () => {
      await rm(dataDir, { recursive: true, force: true });
    });

    it('generates version 1 on first start into a file only its owner can read', async () => {
      const keyring = await LocalKeyring.open({ dataDir: join(dataDir, 'nested') });

      const file = join(dataDir, 'nested', KEYRING_FILE_NAME);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
        versions: { '1': expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/) },
        min_decryption_version: 1,
      });
      expect(keyring.versions()).toEqual([1]);
      expect(keyring.currentKeyVersion()).toBe(1);
      expect(keyring.minDecryptionVersion()).toBe(1);
    });

    it('keeps its keys, rotations and min_decryption_version across restarts', async () => {
      const first = await LocalKeyring.open({ dataDir });
      const wrappedUnderV1 = await first.wrapKey(randomBytes(32), binding);

      expect(await first.rotate()).toBe(2);
      expect(await first.rotate()).toBe(3);
      await first.raiseMinDecryptionVersion(2);
      const reopened = await LocalKeyring.open({ dataDir });

      expect(reopened.versions()).toEqual([1, 2, 3]);
      expect(reopened.currentKeyVersion()).toBe(3);
      expect(reopened.minDecryptionVersion()).toBe(2);
      expect(await sharesKey(first, reopened)).toBe(true);
      await expect(
        reopened.unwrapKey(wrappedUnderV1.wrappedDek, wrappedUnderV1.kekVersion, binding),
      ).rejects.toMatchObject({ code: SecretExceptionCode.KeyUnavailable });
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      expect(await readdir(dataDir)).toEqual([KEYRING_FILE_NAME]);
    });

    it('gives processes starting together on one data directory the same key', async () => {
      const [first, second] = await Promise.all([LocalKeyring.open({ dataDir }), LocalKeyring.open({ dataDir })]);

      expect(await sharesKey(first!, second!)).toBe(true);
      expect(await readdir(dataDir)).toEqual([KEYRING_FILE_NAME]);
    });

    it('gives concurrent rotations distinct versions', async () => {
      const keyring = await LocalKeyring.open({ dataDir });

      const rotated = await Promise.all([keyring.rotate(), keyring.rotate()]);

      expect(rotated.sort()).toEqual([2, 3]);
      expect((await LocalKeyring.open({ dataDir })).versions()).toEqual([1, 2, 3]);
    });

    it('refuses a min_decryption_version above the current version or below the present one', async () => {
      const keyring = await LocalKeyring.open({ dataDir });
      await keyring.rotate();
      await keyring.raiseMinDecryptionVersion(2);

      const tooHigh = await rejection(keyring.raiseMinDecryptionVersion(3));
      const lowered = await rejection(keyring.raiseMinDecryptionVersion(1));

      expect(tooHigh).toMatchObject({ code: SecretExceptionCode.KeyUnavailable });
      expect(tooHigh.message).toContain('current KEK version is 2');
      expect(lowered).toMatchObject({ code: SecretExceptionCode.Conflict });
      expect((await LocalKeyring.open({ dataDir })).minDecryptionVersion()).toBe(2);
    });

    it('names the file, never its content, when the file is not JSON', async () => {
      const key = newKey();
      await writeFile(keyFile, `{"versions": {"1": ${key}}}`);

      const error = await rejection(LocalKeyring.open({ dataDir }));

      expect(error.message).toBe(`secret keyring file ${keyFile} is not valid JSON`);
    });

    const malformed: Array<[string, (key: string) => unknown, string]> = [
      [
        'a key of the wrong length',
        (key) => ({ versions: { '1': key.slice(4) }, min_decryption_version: 1 }),
        'version 1 is not a base64-encoded 32-byte key',
      ],
      [
        'a key where a version belongs',
        (key) => ({ versions: { [key]: key }, min_decryption_version: 1 }),
        'has a version that is not a positive integer',
      ],
      ['no versions', () => ({ versions: {}, min_decryption_version: 1 }), 'has no "versions" object'],
      ['no min_decryption_version', (key) => ({ versions: { '1': key } }), 'min_decryption_version is missing'],
      [
        'a min_decryption_version above every version',
        (key) => ({ versions: { '1': key }, min_decryption_version: 2 }),
        'min_decryption_version must be an integer from 1 to the current KEK version 1',
      ],
    ];
    it.each(malformed)('refuses a file with %s, naming the file but not the key', async (_case, content, problem) => {
      const key = newKey();
      await writeFile(keyFile, JSON.stringify(content(key)));

      const error = await rejection(LocalKeyring.open({ dataDir }));

      expect(error.message).toContain(`secret keyring file ${keyFile}`);
      expect(error.message).toContain(problem);
      expect(error.message).not.toContain(key.slice(4, 20));
    });

    it('refuses SECRET_KEYRING_MIN_DECRYPTION_VERSION without SECRET_KEYRING', async () => {
      const error = await rejection(LocalKeyring.open({ dataDir, minDecryptionVersion: 2 }));

      expect(error.message).toContain('apply only with SECRET_KEYRING');
    });
  });

  describe('from SECRET_KEYRING', () => {
    it('takes the highest version as current and the lowest as min_decryption_version by default', async () => {
      const keyring = await LocalKeyring.open({ dataDir: '/nonexistent', keyring: ` 2:${newKey()} , 1:${newKey()}` });

      expect(keyring.versions()).toEqual([1, 2]);
      expect(keyring.currentKeyVersion()).toBe(2);
      expect(keyring.minDecryptionVersion()).toBe(1);
      expect((await keyring.wrapKey(randomBytes(32), binding)).kekVersion).toBe(2);
    });

    it('takes min_decryption_version from SECRET_KEYRING_MIN_DECRYPTION_VERSION', async () => {
      const keyring = await LocalKeyring.open({
        dataDir: '/nonexistent',
        keyring: `1:${newKey()},2:${newKey()}`,
        minDecryptionVersion: 2,
      });

      expect(keyring.minDecryptionVersion()).toBe(2);
    });

    it('keeps encrypting with SECRET_KEYRING_CURRENT_VERSION while a newer version only decrypts (a rolling rotation)', async () => {
      const one = newKey();
      const two = newKey();
      // Step 1 of a rolling rotation: every replica learns version 2, none encrypts with it yet.
      const rolling = await LocalKeyring.open({ dataDir: '/nonexistent', keyring: `1:${one},2:${two}`, currentVersion: 1 });
      expect(rolling.currentKeyVersion()).toBe(1);
      const wrapped = await rolling.wrapKey(randomBytes(32), binding);
      expect(wrapped.kekVersion).toBe(1);
      // Step 2: once all replicas hold it, version 2 becomes current; what version 1 wrapped still opens.
      const rotated = await LocalKeyring.open({ dataDir: '/nonexistent', keyring: `1:${one},2:${two}` });
      expect((await rotated.wrapKey(randomBytes(32), binding)).kekVersion).toBe(2);
      await expect(rotated.unwrapKey(wrapped.wrappedDek, 1, binding)).resolves.toHaveLength(32);
      // And a replica still on step 1 opens what step 2 wrapped.
      const newer = await rotated.wrapKey(randomBytes(32), binding);
      await expect(rolling.unwrapKey(newer.wrappedDek, 2, binding)).resolves.toHaveLength(32);
    });

    it('refuses a SECRET_KEYRING_CURRENT_VERSION that is not in the keyring, or below the min_decryption_version', async () => {
      const missing = await rejection(LocalKeyring.open({ dataDir: '/nonexistent', keyring: `1:${newKey()},2:${newKey()}`, currentVersion: 3 }));
      expect(missing.message).toBe('SECRET_KEYRING_CURRENT_VERSION 3 is not in SECRET_KEYRING (versions 1, 2)');
      const belowMinimum = await rejection(
        LocalKeyring.open({ dataDir: '/nonexistent', keyring: `1:${newKey()},2:${newKey()}`, currentVersion: 1, minDecryptionVersion: 2 }),
      );
      expect(belowMinimum.message).toBe('SECRET_KEYRING_MIN_DECRYPTION_VERSION must be an integer from 1 to the current KEK version 1, got 2');
      const withoutKeyring = await rejection(LocalKeyring.open({ dataDir: '/nonexistent', currentVersion: 1 }));
      expect(withoutKeyring.message).toContain('apply only with SECRET_KEYRING');
    });

    it('cannot rotate, since the keys live outside the process', async () => {
      const keyring = await LocalKeyring.open({ dataDir: '/nonexistent', keyring: `1:${newKey()}` });

      const error = await rejection(keyring.rotate());

      expect(error).toBeInstanceOf(SecretException);
      expect(error).toMatchObject({ code: SecretExceptionCode.RotationFailed });
      expect(error.message).toContain('SECRET_KEYRING');
    });

    it('raises min_decryption_version in memory', async () => {
      const keyring = await LocalKeyring.open({ dataDir: '/nonexistent', keyring: `1:${newKey()},2:${newKey()}` });

      await keyring.raiseMinDecryptionVersion(2);

      expect(keyring.minDecryptionVersion()).toBe(2);
    });

    const key = newKey();
    const invalid: Array<[string, string, string]> = [
      ['an empty value', '', 'entry 1 is empty'],
      ['a trailing comma', `1:${key},`, 'entry 2 is empty'],
      ['a key without a version', key, 'entry 1 is not <version>:<base64 key>'],
      ['version 0', `0:${key}`, 'entry 1 does not start with a positive integer version'],
      ['a short key', `1:${key.slice(8)}`, 'entry 1 (version 1) is not a base64-encoded 32-byte key'],
      ['a repeated version', `1:${key},1:${newKey()}`, 'entry 2 repeats version 1'],
    ];
    it.each(invalid)('refuses %s, naming the entry but not the key', async (_case, spec, problem) => {
      const error = await rejection(LocalKeyring.open({ dataDir: '/nonexistent', keyring: spec }));

      expect(error.message).toContain(`SECRET_KEYRING is invalid: ${problem}`);
      expect(error.message).not.toContain(key.slice(8, 24));
    });

    it('names every bad entry at once', async () => {
      const error = await rejection(
        LocalKeyring.open({ dataDir: '/nonexistent', keyring: `1:${newKey()},x:${newKey()},3:abc` }),
      );

      expect(error.message).toContain('entry 2 does not start with a positive integer version');
      expect(error.message).toContain('entry 3 (version 3) is not a base64-encoded 32-byte key');
    });

    it('refuses a SECRET_KEYRING_MIN_DECRYPTION_VERSION above the current version', async () => {
      const error = await rejection(
        LocalKeyring.open({ dataDir: '/nonexistent', keyring: `1:${newKey()}`, minDecryptionVersion: 2 }),
      );

      expect(error.message).toBe(
        'SECRET_KEYRING_MIN_DECRYPTION_VERSION must be an integer from 1 to the current KEK version 1, got 2',
      );
    });
  });
});
