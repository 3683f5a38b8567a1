import { SecretType } from '@llmops/contracts';
import { SecretException, SecretExceptionCode } from '../secrets/exceptions/secret.exception.js';
import { apiKeySecretType } from './api-key.secret-type.js';
import { cloudCredentialsSecretType } from './cloud-credentials.secret-type.js';
import { databaseCredentialsSecretType } from './database-credentials.secret-type.js';
import { genericSecretType } from './generic.secret-type.js';
import { canonicalJson, type JsonObject } from './json-object-reader.js';
import { jwtSigningKeySecretType } from './jwt-signing-key.secret-type.js';
import { oauth2TokenSecretType } from './oauth2-token.secret-type.js';
import { maskJsonObject, SECRET_MASK } from './secret-mask.js';
import { invalidValue, type ParsedSecretValue, type SecretTypeDefinition } from './secret-type-definition.js';
import { sshKeyPairSecretType } from './ssh-key-pair.secret-type.js';
import { tlsCertificateSecretType } from './tls-certificate.secret-type.js';

/** Checked before parsing, so no parser (PEM, JSON) ever sees an unbounded input; a full chain fits easily. */
export const MAX_SECRET_VALUE_BYTES = 64 * 1024;

const SECRET_TYPE_DEFINITIONS: Record<Exclude<SecretType, SecretType.UNSPECIFIED>, SecretTypeDefinition> = {
  [SecretType.GENERIC]: genericSecretType,
  [SecretType.API_KEY]: apiKeySecretType,
  [SecretType.DATABASE_CREDENTIALS]: databaseCredentialsSecretType,
  [SecretType.TLS_CERTIFICATE]: tlsCertificateSecretType,
  [SecretType.SSH_KEY_PAIR]: sshKeyPairSecretType,
  [SecretType.OAUTH2_TOKEN]: oauth2TokenSecretType,
  [SecretType.JWT_SIGNING_KEY]: jwtSigningKeySecretType,
  [SecretType.CLOUD_CREDENTIALS]: cloudCredentialsSecretType,
};

/**
 * Validates a value against the shape its type requires and returns what to store plus the non-secret facts
 * to show on reads. Throws `SecretException` (`InvalidValue`, or `ValueTooLarge` above 64 KiB) naming the field;
 * messages never contain any part of the value.
 */
export function parseSecretValue(type: SecretType, value: string): ParsedSecretValue {
  if (type === SecretType.UNSPECIFIED) {
    throw invalidValue('type', 'type is required');
  }
  const definition = definitionOf(type);
  if (definition === undefined) {
    throw invalidValue('type', `type ${String(type)} is not a known secret type`);
  }
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_VALUE_BYTES) {
    throw new SecretException(
      SecretExceptionCode.ValueTooLarge,
      `value is larger than 64 KiB (${MAX_SECRET_VALUE_BYTES} bytes)`,
      'value',
    );
  }
  return definition.parse(value);
}

/**
 * A rendering safe to show anyone allowed to see the secret exists: structure and non-secret fields kept,
 * secret material masked. Meant for stored (already parsed) values; anything it cannot read masks as a whole.
 */
export function maskSecretValue(type: SecretType, value: string): string {
  const maskPlan = definitionOf(type)?.maskPlan;
  if (!maskPlan) {
    return SECRET_MASK;
  }
  const object = tryParseJsonObject(value);
  return object === undefined ? SECRET_MASK : canonicalJson(maskJsonObject(maskPlan, object));
}

function definitionOf(type: SecretType): SecretTypeDefinition | undefined {
  return type === SecretType.UNSPECIFIED ? undefined : SECRET_TYPE_DEFINITIONS[type];
}

function tryParseJsonObject(value: string): JsonObject | undefined {
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}
