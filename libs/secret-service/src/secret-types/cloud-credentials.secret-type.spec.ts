import { beforeAll, describe, expect, it } from '@jest/globals';
import { SecretType } from '@llmops/contracts';
import { generateKeyPairSync } from 'node:crypto';
import { expectInvalidValue, leakedPart } from './testing/expect-invalid-value.js';
import { maskSecretValue, parseSecretValue } from './secret-value.js';

// AWS's documented example key pair.
const AWS = { provider: 'aws', access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEJr7Wq9Xp2Lk5Vb8Nw3Ty6Rc1Zm4Hd7Pf0Js';
const AZURE = {
  provider: 'azure',
  tenant_id: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  client_id: '04b07795-8ddb-461a-bbee-02f9e1bf7b46',
  client_secret: 'Xq8~Lk2Vb9Nw4Ty8Rc3Zm6Hd1Pf5Js0Gh7Ua',
};
const keyBody = (pem: string): string => pem.trim().split('\n').slice(1, -1).join('');

let gcpPrivateKey: string;
let serviceAccount: Record<string, string>;

beforeAll(() => {
  gcpPrivateKey = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { format: 'pem', type: 'pkcs8' },
    publicKeyEncoding: { format: 'pem', type: 'spki' },
  }).privateKey;
  serviceAccount = {
    type: 'service_account',
    project_id: 'llmops-prod',
    private_key_id: '3f2a9c0d1e4b5a6f7081920a3b4c5d6e7f809112',
    private_key: gcpPrivateKey,
    client_email: 'inference@llmops-prod.iam.gserviceaccount.com',
    client_id: '109876543210987654321',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: 'https://oauth2.googleapis.com/token',
    universe_domain: 'googleapis.com',
  };
});

function parseCloud(fields: Record<string, unknown>): ReturnType<typeof parseSecretValue> {
  return parseSecretValue(SecretType.CLOUD_CREDENTIALS, JSON.stringify(fields));
}

describe('CLOUD_CREDENTIALS secrets', () => {
  it('refuses an unknown provider, naming the allowed ones', () => {
    const message = expectInvalidValue(() => parseCloud({ ...AWS, provider: 'oracle' }), 'value.provider', [AWS.secret_access_key]);

    expect(message).toBe('value.provider must be one of: aws, azure, gcp');
  });

  describe('aws', () => {
    it('accepts a long-term key pair and shows the key id and region', () => {
      const parsed = parseCloud({ ...AWS, region: 'eu-central-1' });

      expect(JSON.parse(parsed.value)).toEqual({ ...AWS, region: 'eu-central-1' });
      expect(parsed.facts).toEqual({ provider: 'aws', access_key_id: AWS.access_key_id, region: 'eu-central-1', temporary: false });
    });

    it('accepts temporary credentials with their session token', () => {
      const parsed = parseCloud({ ...AWS, access_key_id: 'ASIAIOSFODNN7EXAMPLE', session_token: SESSION_TOKEN });

      expect(parsed.facts).toMatchObject({ temporary: true });
    });

    it('requires the session token for temporary (ASIA) keys', () => {
      expectInvalidValue(() => parseCloud({ ...AWS, access_key_id: 'ASIAIOSFODNN7EXAMPLE' }), 'value.session_token', [
        AWS.secret_access_key,
      ]);
    });

    it.each(['AKIAIOSFODNN7EXAMPL', 'AKIDIOSFODNN7EXAMPLE', 'akiaiosfodnn7example'])('refuses access key id %p', (accessKeyId) => {
      const message = expectInvalidValue(() => parseCloud({ ...AWS, access_key_id: accessKeyId }), 'value.access_key_id', [
        AWS.secret_access_key,
      ]);

      expect(message).toBe('value.access_key_id must be AKIA or ASIA followed by 16 upper-case letters or digits');
    });

    it('refuses a secret access key that is not 40 base64 characters, without quoting it', () => {
      const tooShort = AWS.secret_access_key.slice(1);

      expectInvalidValue(() => parseCloud({ ...AWS, secret_access_key: tooShort }), 'value.secret_access_key', [tooShort]);
      expectInvalidValue(() => parseCloud({ ...AWS, secret_access_key: undefined }), 'value.secret_access_key');
    });

    it('refuses a region that is not a region name', () => {
      expectInvalidValue(() => parseCloud({ ...AWS, region: 'Frankfurt' }), 'value.region');
    });

    it('refuses fields of another provider', () => {
      expectInvalidValue(() => parseCloud({ ...AWS, client_secret: AZURE.client_secret }), 'value.client_secret', [AZURE.client_secret]);
    });

    it('masks the secret access key and session token and keeps the key id and region', () => {
      const stored = parseCloud({ ...AWS, access_key_id: 'ASIAIOSFODNN7EXAMPLE', session_token: SESSION_TOKEN, region: 'us-east-1' }).value;

      const masked = maskSecretValue(SecretType.CLOUD_CREDENTIALS, stored);

      expect(JSON.parse(masked)).toEqual({
        provider: 'aws',
        access_key_id: 'ASIAIOSFODNN7EXAMPLE',
        secret_access_key: 'wJa…EKEY',
        session_token: 'IQo…f0Js',
        region: 'us-east-1',
      });
    });
  });

  describe('azure', () => {
    it('accepts a service principal and shows tenant and client ids', () => {
      const parsed = parseCloud(AZURE);

      expect(JSON.parse(parsed.value)).toEqual(AZURE);
      expect(parsed.facts).toEqual({ provider: 'azure', tenant_id: AZURE.tenant_id, client_id: AZURE.client_id });
    });

    it.each(['tenant_id', 'client_id'])('refuses a %s that is not a GUID', (field) => {
      const message = expectInvalidValue(() => parseCloud({ ...AZURE, [field]: 'contoso.onmicrosoft.com' }), `value.${field}`, [
        AZURE.client_secret,
      ]);

      expect(message).toBe(`value.${field} must be a GUID`);
    });

    it('requires the client secret', () => {
      expectInvalidValue(() => parseCloud({ ...AZURE, client_secret: '' }), 'value.client_secret');
    });

    it('masks the client secret and keeps the ids', () => {
      const masked = maskSecretValue(SecretType.CLOUD_CREDENTIALS, parseCloud(AZURE).value);

      expect(JSON.parse(masked)).toEqual({ ...AZURE, client_secret: 'Xq8…h7Ua' });
    });
  });

  describe('gcp', () => {
    it('accepts a service-account key file and shows its identity', () => {
      const parsed = parseCloud({ provider: 'gcp', service_account: serviceAccount });

      expect(JSON.parse(parsed.value)).toEqual({ provider: 'gcp', service_account: serviceAccount });
      expect(parsed.facts).toEqual({
        provider: 'gcp',
        project_id: 'llmops-prod',
        client_email: 'inference@llmops-prod.iam.gserviceaccount.com',
        private_key_id: '3f2a9c0d1e4b5a6f7081920a3b4c5d6e7f809112',
      });
    });

    it('refuses a private key that does not parse, without quoting it', () => {
      const broken = gcpPrivateKey.replace('MII', 'AAA');

      const message = expectInvalidValue(
        () => parseCloud({ provider: 'gcp', service_account: { ...serviceAccount, private_key: broken } }),
        'value.service_account.private_key',
        [keyBody(broken)],
      );

      expect(message).toBe('value.service_account.private_key is not a PEM private key that parses');
    });

    it('refuses a key file of another type', () => {
      expectInvalidValue(
        () => parseCloud({ provider: 'gcp', service_account: { ...serviceAccount, type: 'authorized_user' } }),
        'value.service_account.type',
        [keyBody(gcpPrivateKey)],
      );
    });

    it.each(['project_id', 'client_email', 'private_key'])('requires service_account.%s', (field) => {
      const account: Record<string, string> = { ...serviceAccount };
      delete account[field];

      expectInvalidValue(() => parseCloud({ provider: 'gcp', service_account: account }), `value.service_account.${field}`);
    });

    it('refuses a missing or non-object service_account and unknown key-file fields', () => {
      expectInvalidValue(() => parseCloud({ provider: 'gcp' }), 'value.service_account');
      expectInvalidValue(() => parseCloud({ provider: 'gcp', service_account: JSON.stringify(serviceAccount) }), 'value.service_account', [
        keyBody(gcpPrivateKey),
      ]);
      expectInvalidValue(
        () => parseCloud({ provider: 'gcp', service_account: { ...serviceAccount, refresh_token: 'x' } }),
        'value.service_account.refresh_token',
      );
    });

    it('masks the private key and keeps the rest of the key file', () => {
      const masked = maskSecretValue(SecretType.CLOUD_CREDENTIALS, parseCloud({ provider: 'gcp', service_account: serviceAccount }).value);

      expect(JSON.parse(masked)).toEqual({ provider: 'gcp', service_account: { ...serviceAccount, private_key: '---…---\n' } });
      expect(leakedPart(masked, keyBody(gcpPrivateKey).slice(64))).toBeUndefined();
    });
  });
});
