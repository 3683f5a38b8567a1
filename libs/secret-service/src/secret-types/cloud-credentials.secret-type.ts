import { canonicalJson, JsonObjectReader, parseJsonObject, type JsonObject } from './json-object-reader.js';
import { parsePrivateKeyPem } from './pem.js';
import { invalidValue, type ParsedSecretValue, type SecretTypeDefinition } from './secret-type-definition.js';

export const CLOUD_PROVIDERS = ['aws', 'azure', 'gcp'] as const;

const AWS_ACCESS_KEY_ID_PATTERN = /^(AKIA|ASIA)[A-Z0-9]{16}$/;
const AWS_SECRET_ACCESS_KEY_PATTERN = /^[A-Za-z0-9/+]{40}$/;
const AWS_REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const GUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Every field of a Google service-account key file; all but private_key are identifiers or endpoints. */
const GCP_SERVICE_ACCOUNT_PUBLIC_FIELDS = [
  'type',
  'project_id',
  'private_key_id',
  'client_email',
  'client_id',
  'auth_uri',
  'token_uri',
  'auth_provider_x509_cert_url',
  'client_x509_cert_url',
  'universe_domain',
] as const;

export const cloudCredentialsSecretType: SecretTypeDefinition = {
  parse(value) {
    const reader = new JsonObjectReader(parseJsonObject(value, '{provider: aws|azure|gcp, …}'));
    const provider = reader.requiredOneOf('provider', CLOUD_PROVIDERS);
    switch (provider) {
      case 'aws':
        return parseAwsCredentials(reader);
      case 'azure':
        return parseAzureCredentials(reader);
      case 'gcp':
        return parseGcpCredentials(reader);
    }
  },
  maskPlan: {
    provider: 'keep',
    access_key_id: 'keep',
    region: 'keep',
    tenant_id: 'keep',
    client_id: 'keep',
    service_account: Object.fromEntries(GCP_SERVICE_ACCOUNT_PUBLIC_FIELDS.map((field) => [field, 'keep'])),
  },
};

function parseAwsCredentials(reader: JsonObjectReader): ParsedSecretValue {
  reader.assertKnownFields(['provider', 'access_key_id', 'secret_access_key', 'session_token', 'region']);
  const accessKeyId = reader.requiredString('access_key_id', {
    pattern: AWS_ACCESS_KEY_ID_PATTERN,
    patternDescription: 'AKIA or ASIA followed by 16 upper-case letters or digits',
  });
  const secretAccessKey = reader.requiredString('secret_access_key', {
    pattern: AWS_SECRET_ACCESS_KEY_PATTERN,
    patternDescription: '40 characters of A-Z, a-z, 0-9, / and +',
  });
  const sessionToken = reader.optionalString('session_token', { noWhitespace: true });
  const region = reader.optionalString('region', { pattern: AWS_REGION_PATTERN, patternDescription: 'a region such as us-east-1' });
  // ASIA keys come from STS and are useless without the session token issued with them.
  const temporary = accessKeyId.startsWith('ASIA');
  if (temporary && sessionToken === undefined) {
    throw invalidValue(reader.path('session_token'), `${reader.path('session_token')} is required for temporary (ASIA) access keys`);
  }

  const stored: JsonObject = { provider: 'aws', access_key_id: accessKeyId, secret_access_key: secretAccessKey };
  const facts: Record<string, string | boolean> = { provider: 'aws', access_key_id: accessKeyId, temporary };
  if (sessionToken !== undefined) stored['session_token'] = sessionToken;
  if (region !== undefined) stored['region'] = facts['region'] = region;
  return { value: canonicalJson(stored), facts };
}

function parseAzureCredentials(reader: JsonObjectReader): ParsedSecretValue {
  reader.assertKnownFields(['provider', 'tenant_id', 'client_id', 'client_secret']);
  const guid = { pattern: GUID_PATTERN, patternDescription: 'a GUID' };
  const tenantId = reader.requiredString('tenant_id', guid);
  const clientId = reader.requiredString('client_id', guid);
  const clientSecret = reader.requiredString('client_secret', { noWhitespace: true });
  return {
    value: canonicalJson({ provider: 'azure', tenant_id: tenantId, client_id: clientId, client_secret: clientSecret }),
    facts: { provider: 'azure', tenant_id: tenantId, client_id: clientId },
  };
}

/** The key file as Google issued it, under `service_account`, so a client can hand it to Google's libraries unchanged. */
function parseGcpCredentials(reader: JsonObjectReader): ParsedSecretValue {
  reader.assertKnownFields(['provider', 'service_account']);
  const account = reader.requiredObject('service_account');
  account.assertKnownFields([...GCP_SERVICE_ACCOUNT_PUBLIC_FIELDS, 'private_key']);
  account.requiredOneOf('type', ['service_account']);
  const projectId = account.requiredString('project_id', { noWhitespace: true });
  const clientEmail = account.requiredString('client_email', { pattern: EMAIL_PATTERN, patternDescription: 'an email address' });
  parsePrivateKeyPem(account.requiredString('private_key'), account.path('private_key'));
  const serviceAccount: JsonObject = {};
  for (const field of [...GCP_SERVICE_ACCOUNT_PUBLIC_FIELDS, 'private_key']) {
    const fieldValue = account.optionalString(field);
    if (fieldValue !== undefined) serviceAccount[field] = fieldValue;
  }

  const facts: Record<string, string> = { provider: 'gcp', project_id: projectId, client_email: clientEmail };
  const privateKeyId = account.optionalString('private_key_id');
  if (privateKeyId !== undefined) facts['private_key_id'] = privateKeyId;
  return { value: canonicalJson({ provider: 'gcp', service_account: serviceAccount }), facts };
}
