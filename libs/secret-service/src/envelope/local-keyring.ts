import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretException, SecretExceptionCode } from '../secrets/exceptions/secret.exception.js';
import { AES_256_KEY_BYTES, GCM_NONCE_BYTES, GCM_TAG_BYTES, aes256GcmDecrypt, aes256GcmEncrypt } from './aes-256-gcm.js';
import { assertDecryptableVersion, type KeyEncryptionProvider } from './key-encryption-provider.js';
import { describeBinding, encodeBinding, type SecretBinding } from './secret-binding.js';

export const KEYRING_FILE_NAME = 'secret-keyring.json';

/** The key file's JSON shape: KEK versions to base64 keys, and the lowest version still allowed to unwrap. */
interface KeyringFile {
  versions: Record<string, string>;
  min_decryption_version: number;
}

interface KeyringState {
  keys: Map<number, Buffer>;
  minimum: number;
}

const WRAPPED_DEK_BYTES = GCM_NONCE_BYTES + GCM_TAG_BYTES + AES_256_KEY_BYTES;
const BASE64_32_BYTES = /^[A-Za-z0-9+/]{43}=$/;
const POSITIVE_INTEGER = /^[1-9][0-9]*$/;

/**
 * The embedded KEK provider: a versioned keyring of AES-256 keys, from SECRET_KEYRING or else a key file in the data
 * directory. The highest version wraps new data keys; a wrapped key is nonce‖tag‖ciphertext, the binding as AAD.
 */
export class LocalKeyring implements KeyEncryptionProvider {
  readonly name = 'local' as const;
  /** Rotations and min-version changes run one at a time, so two never persist over each other. */
  private pendingChange: Promise<void> = Promise.resolve();

  private constructor(
    private readonly keys: Map<number, Buffer>,
    private minimum: number,
    /** The key file, or undefined for a keyring from the environment. */
    private readonly file: string | undefined,
    /** SECRET_KEYRING_CURRENT_VERSION: the version that wraps new data keys when it is not the highest. */
    private readonly pinnedCurrent?: number,
  ) {}

  /**
   * From `keyring` (SECRET_KEYRING, e.g. "1:<base64 32 bytes>,2:<base64>"; min via `minDecryptionVersion`, default the
   * lowest version; the version wrapping new data keys via `currentVersion`, default the highest, so that a rolling
   * deploy can ship a new version to every replica before any of them encrypts with it), else from `<dataDir>/secret-keyring.json` (mode 0600), generated with version 1 on first start.
   */
  static async open(options: {
    dataDir: string;
    keyring?: string;
    minDecryptionVersion?: number;
    currentVersion?: number;
  }): Promise<LocalKeyring> {
    if (options.keyring !== undefined) {
      const keys = parseKeyringSpec(options.keyring);
      const current = options.currentVersion ?? Math.max(...keys.keys());
      const minimum = options.minDecryptionVersion ?? Math.min(...keys.keys());
      const minimumIssue = minimumProblem(minimum, current);
      const problem = !keys.has(current)
        ? `SECRET_KEYRING_CURRENT_VERSION ${current} is not in SECRET_KEYRING (versions ${[...keys.keys()].sort((a, b) => a - b).join(', ')})`
        : minimumIssue && `SECRET_KEYRING_MIN_DECRYPTION_VERSION ${minimumIssue}`;
      if (problem) {
        zeroKeys(keys);
        throw new Error(problem);
      }
      return new LocalKeyring(keys, minimum, undefined, current);
    }
    if (options.minDecryptionVersion !== undefined || options.currentVersion !== undefined) {
      throw new Error(
        'SECRET_KEYRING_MIN_DECRYPTION_VERSION and SECRET_KEYRING_CURRENT_VERSION apply only with SECRET_KEYRING; a key file ' +
          'keeps its own versions (rotate through the API)',
      );
    }
    const path = join(options.dataDir, KEYRING_FILE_NAME);
    const state = (await readKeyringFile(path)) ?? (await createKeyringFile(path));
    return new LocalKeyring(state.keys, state.minimum, path);
  }

  currentKeyVersion(): number {
    return this.pinnedCurrent ?? Math.max(...this.keys.keys());
  }

  minDecryptionVersion(): number {
    return this.minimum;
  }

  versions(): number[] {
    return [...this.keys.keys()].sort((a, b) => a - b);
  }

  async wrapKey(dek: Buffer, binding: SecretBinding): Promise<{ wrappedDek: Buffer; kekVersion: number }> {
    const kekVersion = this.currentKeyVersion();
    const { nonce, authTag, ciphertext } = aes256GcmEncrypt(this.key(kekVersion), dek, encodeBinding(binding));
    return { wrappedDek: Buffer.concat([nonce, authTag, ciphertext]), kekVersion };
  }

  async unwrapKey(wrappedDek: Buffer, kekVersion: number, binding: SecretBinding): Promise<Buffer> {
    assertDecryptableVersion(this, kekVersion, this.keys.has(kekVersion));
    const dek =
      wrappedDek.length === WRAPPED_DEK_BYTES
        ? aes256GcmDecrypt(
            this.key(kekVersion),
            {
              nonce: wrappedDek.subarray(0, GCM_NONCE_BYTES),
              authTag: wrappedDek.subarray(GCM_NONCE_BYTES, GCM_NONCE_BYTES + GCM_TAG_BYTES),
              ciphertext: wrappedDek.subarray(GCM_NONCE_BYTES + GCM_TAG_BYTES),
            },
            encodeBinding(binding),
          )
        : undefined;
    if (!dek) {
      throw new SecretException(
        SecretExceptionCode.DecryptionFailed,
        `${describeBinding(binding)} failed authentication: its data key did not unwrap under KEK version ` +
          `${kekVersion} (wrapped key, KEK version or binding was altered)`,
      );
    }
    return dek;
  }

  /** Adds and persists version N+1, which wraps new data keys at once; older versions keep unwrapping. */
  rotate(): Promise<number> {
    const file = this.file;
    if (file === undefined) {
      return Promise.reject(
        new SecretException(
          SecretExceptionCode.RotationFailed,
          'the local keyring comes from SECRET_KEYRING: add a new version there and restart to rotate',
        ),
      );
    }
    return this.serialized(async () => {
      const version = this.currentKeyVersion() + 1;
      const key = randomBytes(AES_256_KEY_BYTES);
      // Persisted before use: a key that wrapped a DEK but never reached the file would lose that secret.
      await replaceKeyringFile(file, { keys: new Map([...this.keys, [version, key]]), minimum: this.minimum });
      this.keys.set(version, key);
      return version;
    });
  }

  /**
   * Retires versions below `version`: their data keys stop unwrapping (rewrap them first). Persisted for a key file;
   * for SECRET_KEYRING it lasts until restart, when SECRET_KEYRING_MIN_DECRYPTION_VERSION applies again.
   */
  raiseMinDecryptionVersion(version: number): Promise<void> {
    return this.serialized(async () => {
      if (!Number.isSafeInteger(version) || version > this.currentKeyVersion()) {
        throw new SecretException(
          SecretExceptionCode.KeyUnavailable,
          `cannot raise min_decryption_version to ${version}: the current KEK version is ${this.currentKeyVersion()}`,
        );
      }
      if (version < this.minimum) {
        throw new SecretException(
          SecretExceptionCode.Conflict,
          `min_decryption_version is already ${this.minimum} and is never lowered (asked for ${version})`,
        );
      }
      if (version === this.minimum) return;
      if (this.file !== undefined) await replaceKeyringFile(this.file, { keys: this.keys, minimum: version });
      this.minimum = version;
    });
  }

  private key(version: number): Buffer {
    const key = this.keys.get(version);
    if (!key) {
      throw new SecretException(SecretExceptionCode.KeyUnavailable, `KEK version ${version} is not in the local keyring`);
    }
    return key;
  }

  private serialized<T>(change: () => Promise<T>): Promise<T> {
    const result = this.pendingChange.then(change);
    this.pendingChange = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** Parses "1:<base64>,2:<base64>"; errors name entries by position and version, never by their text. */
function parseKeyringSpec(spec: string): Map<number, Buffer> {
  const keys = new Map<number, Buffer>();
  const problems: string[] = [];
  spec.split(',').forEach((rawEntry, index) => {
    const entry = rawEntry.trim();
    const position = `entry ${index + 1}`;
    const separator = entry.indexOf(':');
    if (entry === '') {
      problems.push(`${position} is empty`);
    } else if (separator < 0) {
      problems.push(`${position} is not <version>:<base64 key>`);
    } else if (!POSITIVE_INTEGER.test(entry.slice(0, separator).trim())) {
      problems.push(`${position} does not start with a positive integer version`);
    } else {
      const version = Number(entry.slice(0, separator).trim());
      const key = decodeKey(entry.slice(separator + 1).trim());
      if (!key) problems.push(`${position} (version ${version}) is not a base64-encoded 32-byte key`);
      else if (keys.has(version)) problems.push(`${position} repeats version ${version}`);
      else keys.set(version, key);
    }
  });
  if (problems.length > 0) {
    zeroKeys(keys);
    throw new Error(`SECRET_KEYRING is invalid: ${problems.join('; ')} (expected "1:<base64 32 bytes>,2:<base64 32 bytes>")`);
  }
  return keys;
}

/** The keyring in `path`, or undefined if there is no such file. */
async function readKeyringFile(path: string): Promise<KeyringState | undefined> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return parseKeyringFile(raw, path);
  } finally {
    raw.fill(0);
  }
}

function parseKeyringFile(raw: Buffer, path: string): KeyringState {
  let content: unknown;
  try {
    content = JSON.parse(raw.toString('utf8'));
  } catch {
    // JSON.parse's own message quotes the text around the error, which could be key material.
    throw new Error(`secret keyring file ${path} is not valid JSON`);
  }
  const { versions, min_decryption_version: minimum } = (content ?? {}) as Partial<KeyringFile>;
  if (typeof versions !== 'object' || versions === null || Object.keys(versions).length === 0) {
    throw new Error(`secret keyring file ${path} has no "versions" object of KEK versions`);
  }
  const keys = new Map<number, Buffer>();
  for (const [version, encoded] of Object.entries(versions)) {
    // Neither a malformed version nor a malformed key is quoted: either could be a key pasted in the wrong place.
    const problem = !POSITIVE_INTEGER.test(version)
      ? 'has a version that is not a positive integer'
      : typeof encoded !== 'string' || !BASE64_32_BYTES.test(encoded)
        ? `version ${version} is not a base64-encoded 32-byte key`
        : undefined;
    if (problem) {
      zeroKeys(keys);
      throw new Error(`secret keyring file ${path} ${problem}`);
    }
    const key = Buffer.from(encoded as string, 'base64');
    keys.set(Number(version), key);
  }
  const problem = typeof minimum === 'number' ? minimumProblem(minimum, Math.max(...keys.keys())) : 'is missing';
  if (problem) {
    zeroKeys(keys);
    throw new Error(`secret keyring file ${path}: min_decryption_version ${problem}`);
  }
  return { keys, minimum: minimum as number };
}

/** Generates version 1; if another process created the file first, uses theirs, so both hold the same key. */
async function createKeyringFile(path: string): Promise<KeyringState> {
  const state: KeyringState = { keys: new Map([[1, randomBytes(AES_256_KEY_BYTES)]]), minimum: 1 };
  await mkdir(join(path, '..'), { recursive: true });
  const temporary = await writeTemporaryFile(path, state);
  try {
    // link, unlike rename, refuses to replace an existing file: the keyring is created exactly once.
    await link(temporary, path);
    return state;
  } catch (error) {
    zeroKeys(state.keys);
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temporary);
  }
  const existing = await readKeyringFile(path);
  if (!existing) throw new Error(`secret keyring file ${path} vanished while it was being created`);
  return existing;
}

/** Atomic replacement: readers see the old file or the new one, never a partial write. */
async function replaceKeyringFile(path: string, state: KeyringState): Promise<void> {
  const temporary = await writeTemporaryFile(path, state);
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

async function writeTemporaryFile(path: string, state: KeyringState): Promise<string> {
  const content: KeyringFile = {
    versions: Object.fromEntries([...state.keys].map(([version, key]) => [String(version), key.toString('base64')])),
    min_decryption_version: state.minimum,
  };
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(content, null, 2)}\n`);
    // Flushed before the rename, so a crash cannot leave an empty keyring in the file's place.
    await handle.sync();
    await handle.close();
    return temporary;
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

function decodeKey(encoded: string): Buffer | undefined {
  return BASE64_32_BYTES.test(encoded) ? Buffer.from(encoded, 'base64') : undefined;
}

function minimumProblem(minimum: number, current: number): string | undefined {
  if (!Number.isSafeInteger(minimum) || minimum < 1 || minimum > current) {
    return `must be an integer from 1 to the current KEK version ${current}, got ${minimum}`;
  }
  return undefined;
}

function zeroKeys(keys: Map<number, Buffer>): void {
  for (const key of keys.values()) key.fill(0);
}
