import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import { HttpResponse, type HttpRequest } from '@smithy/core/protocols';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { SecretException, SecretExceptionCode } from '../secrets/exceptions/secret.exception.js';
import { AwsKmsKeyProvider } from './aws-kms-key-provider.js';
import { EnvelopeCipher } from './envelope-cipher.js';
import type { SecretBinding } from './secret-binding.js';

const KEY_V1 = 'arn:aws:kms:eu-west-1:111122223333:key/1111aaaa-0000-0000-0000-000000000001';
const KEY_V2 = 'alias/secret-service-v2';

interface KmsRequest {
  target: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/**
 * Stands where KMS's HTTP endpoint would: it records each signed request and answers as KMS does, really encrypting
 * with a key of its own per key id and the encryption context as AAD, so the SDK's whole request path runs.
 */
class InTestKms {
  readonly requests: KmsRequest[] = [];
  /** When set, every request is answered with this AWS error. */
  failWith: { name: string; message: string } | undefined;
  private readonly keys = new Map<string, Buffer>();

  constructor(keyIds: string[]) {
    for (const keyId of keyIds) this.keys.set(keyId, randomBytes(32));
  }

  readonly requestHandler = {
    handle: async (request: HttpRequest): Promise<{ response: HttpResponse }> => ({ response: this.answer(request) }),
  };

  private answer(request: HttpRequest): HttpResponse {
    const raw: unknown = request.body;
    const text = typeof raw === 'string' ? raw : new TextDecoder().decode(raw as Uint8Array);
    const body = JSON.parse(text) as Record<string, string>;
    const target = request.headers['x-amz-target'] ?? '';
    this.requests.push({ target, headers: request.headers, body });
    if (this.failWith) return this.error(this.failWith.name, this.failWith.message);
    const aad = Buffer.from(JSON.stringify(Object.entries(body.EncryptionContext ?? {}).sort()));
    if (target === 'TrentService.Encrypt') {
      const key = this.keys.get(body.KeyId!);
      if (!key) return this.error('NotFoundException', `Key '${body.KeyId}' does not exist`);
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(aad);
      const ciphertext = Buffer.concat([cipher.update(Buffer.from(body.Plaintext!, 'base64')), cipher.final()]);
      const keyId = Buffer.from(body.KeyId!);
      // Like a real KMS blob, it names the key that made it.
      const blob = Buffer.concat([Buffer.from([keyId.length]), keyId, nonce, cipher.getAuthTag(), ciphertext]);
      return this.ok({ CiphertextBlob: blob.toString('base64'), KeyId: body.KeyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    }
    if (target === 'TrentService.Decrypt') {
      const blob = Buffer.from(body.CiphertextBlob!, 'base64');
      const keyId = blob.subarray(1, 1 + blob[0]!).toString();
      if (body.KeyId !== keyId) return this.error('IncorrectKeyException', 'The key ID does not match the ciphertext');
      const sealed = blob.subarray(1 + blob[0]!);
      try {
        const decipher = createDecipheriv('aes-256-gcm', this.keys.get(keyId)!, sealed.subarray(0, 12)).setAAD(aad);
        decipher.setAuthTag(sealed.subarray(12, 28));
        const plaintext = Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
        return this.ok({ Plaintext: plaintext.toString('base64'), KeyId: keyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
      } catch {
        return this.error('InvalidCiphertextException', '');
      }
    }
    return this.error('UnknownOperationException', target);
  }

  private ok(body: object): HttpResponse {
    return this.respond(200, body);
  }

  private error(name: string, message: string): HttpResponse {
    return this.respond(400, { __type: name, message });
  }

  private respond(statusCode: number, body: object): HttpResponse {
    return new HttpResponse({
      statusCode,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'test-request' },
      body: Buffer.from(JSON.stringify(body)),
    });
  }
}

const binding: SecretBinding = { path: 'prod/openai/api-key', version: 3 };
const plaintext = Buffer.from('sk-live-0123456789');

async function secretError(action: Promise<unknown>): Promise<SecretException> {
  const error = await action.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof SecretException)) throw new Error(`expected a SecretException, got ${String(error)}`);
  return error;
}

describe(AwsKmsKeyProvider.name, () => {
  let kms: InTestKms;
  let client: KMSClient;
  beforeEach(() => {
    kms = new InTestKms([KEY_V1, KEY_V2]);
    client = new KMSClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'test-secret-access-key' },
      requestHandler: kms.requestHandler,
      maxAttempts: 1,
    });
  });

  it('wraps data keys with the current KMS key through signed Encrypt and Decrypt requests bound to the row', async () => {
    const cipher = new EnvelopeCipher(new AwsKmsKeyProvider({ client, keys: { 1: KEY_V1, 2: KEY_V2 } }));

    const sealed = await cipher.seal(plaintext, binding);
    const opened = await cipher.open(sealed, binding);

    expect(opened).toEqual(plaintext);
    expect(sealed.kekVersion).toBe(2);
    const [encrypt, decrypt] = kms.requests;
    expect(encrypt!.target).toBe('TrentService.Encrypt');
    expect(encrypt!.headers.host).toBe('kms.eu-west-1.amazonaws.com');
    expect(encrypt!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/kms\/aws4_request, SignedHeaders=.*x-amz-target.*, Signature=[0-9a-f]{64}$/,
    );
    expect(encrypt!.body).toEqual({
      KeyId: KEY_V2,
      Plaintext: expect.any(String),
      EncryptionContext: { path: 'prod/openai/api-key', version: '3' },
    });
    expect(Buffer.from(encrypt!.body.Plaintext as string, 'base64')).toHaveLength(32);
    expect(decrypt!.target).toBe('TrentService.Decrypt');
    expect(decrypt!.body).toEqual({
      KeyId: KEY_V2,
      CiphertextBlob: sealed.wrappedDek.toString('base64'),
      EncryptionContext: { path: 'prod/openai/api-key', version: '3' },
    });
    expect(JSON.stringify(kms.requests)).not.toContain(plaintext.toString('base64'));
  });

  it('keeps unwrapping an old version with its own key and rewraps it under the current one', async () => {
    const before = new EnvelopeCipher(new AwsKmsKeyProvider({ client, keys: { 1: KEY_V1 } }));
    const old = await before.seal(plaintext, binding);
    const after = new EnvelopeCipher(new AwsKmsKeyProvider({ client, keys: { 1: KEY_V1, 2: KEY_V2 } }));
    kms.requests.length = 0;

    expect(await after.open(old, binding)).toEqual(plaintext);
    const rewrapped = await after.rewrap(old, binding);

    expect(kms.requests.map(({ target, body }) => [target, body.KeyId])).toEqual([
      ['TrentService.Decrypt', KEY_V1],
      ['TrentService.Decrypt', KEY_V1],
      ['TrentService.Encrypt', KEY_V2],
    ]);
    expect(rewrapped).toMatchObject({ kekVersion: 2, ciphertext: old.ciphertext, nonce: old.nonce, authTag: old.authTag });
    expect(await after.open(rewrapped, binding)).toEqual(plaintext);
  });

  it('fails with DecryptionFailed when KMS refuses a wrapped key moved to another row', async () => {
    const cipher = new EnvelopeCipher(new AwsKmsKeyProvider({ client, keys: { 1: KEY_V1 } }));
    const sealed = await cipher.seal(plaintext, binding);

    const error = await secretError(cipher.open(sealed, { ...binding, version: 4 }));

    expect(error.code).toBe(SecretExceptionCode.DecryptionFailed);
    expect(error.message).toContain('secret prod/openai/api-key version 4 failed authentication');
  });

  it('refuses a version below min_decryption_version or unknown with KeyUnavailable, without asking KMS', async () => {
    const provider = new AwsKmsKeyProvider({ client, keys: { 1: KEY_V1, 2: KEY_V2 }, minDecryptionVersion: 2 });

    const retired = await secretError(provider.unwrapKey(randomBytes(60), 1, binding));
    const unknown = await secretError(provider.unwrapKey(randomBytes(60), 5, binding));

    expect(retired.code).toBe(SecretExceptionCode.KeyUnavailable);
    expect(retired.message).toBe('KEK version 1 is retired: below min_decryption_version 2');
    expect(unknown.code).toBe(SecretExceptionCode.KeyUnavailable);
    expect(unknown.message).toBe('KEK version 5 is unknown to the aws-kms key provider');
    expect(kms.requests).toEqual([]);
  });

  it('reports a wrapped key presented with another KEK version as KeyUnavailable', async () => {
    const provider = new AwsKmsKeyProvider({ client, keys: { 1: KEY_V1, 2: KEY_V2 } });
    const { wrappedDek } = await provider.wrapKey(randomBytes(32), binding);

    const error = await secretError(provider.unwrapKey(wrappedDek, 1, binding));

    expect(error.code).toBe(SecretExceptionCode.KeyUnavailable);
    expect(error.message).toBe('AWS KMS Decrypt with KEK version 1 failed: IncorrectKeyException');
  });

  it('reports KMS errors as KeyUnavailable by their AWS name only', async () => {
    const provider = new AwsKmsKeyProvider({ client, keys: { 1: KEY_V1 } });
    kms.failWith = { name: 'AccessDeniedException', message: 'User arn:aws:iam::111122223333:user/x is not authorized' };

    const error = await secretError(provider.wrapKey(randomBytes(32), binding));

    expect(error.code).toBe(SecretExceptionCode.KeyUnavailable);
    expect(error.message).toBe('AWS KMS Encrypt with KEK version 1 failed: AccessDeniedException');
  });

  it('refuses a min_decryption_version above the current version', () => {
    expect(() => new AwsKmsKeyProvider({ client, keys: { 1: KEY_V1 }, minDecryptionVersion: 2 })).toThrow(
      'AWS KMS min_decryption_version must be an integer from 1 to the current KEK version 1, got 2',
    );
  });

  it('wraps with the pinned current version during a rolling rotation, and refuses one it does not list', async () => {
    const provider = new AwsKmsKeyProvider({ client, keys: { 1: KEY_V1, 2: KEY_V2 }, currentVersion: 1 });
    expect(provider.currentKeyVersion()).toBe(1);
    expect((await provider.wrapKey(randomBytes(32), binding)).kekVersion).toBe(1);
    expect(() => new AwsKmsKeyProvider({ client, keys: { 1: KEY_V1 }, currentVersion: 2 })).toThrow(
      'AWS KMS current KEK version 2 is not among the listed versions (1)',
    );
  });

  describe('keysFrom', () => {
    it('maps versions to key ids, ARNs and aliases', () => {
      expect(AwsKmsKeyProvider.keysFrom(` 1=${KEY_V1} , 2=${KEY_V2}`)).toEqual({ 1: KEY_V1, 2: KEY_V2 });
    });

    it('names every bad entry', () => {
      expect(() => AwsKmsKeyProvider.keysFrom(`1=${KEY_V1},${KEY_V2},0=alias/x,3=,1=alias/y`)).toThrow(
        `AWS KMS key list is invalid: entry 2 "${KEY_V2}" is not <version>=<key id, ARN or alias>; ` +
          'entry 3 "0=alias/x" is not <version>=<key id, ARN or alias>; entry 4 "3=" is not <version>=<key id, ARN or alias>; ' +
          'entry 5 repeats version 1 (expected "1=arn:aws:kms:…,2=alias/…")',
      );
    });
  });
});
