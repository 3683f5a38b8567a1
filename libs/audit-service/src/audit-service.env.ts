import { EnvValidationError, infrastructureEnv, parseEnv, port, sensitive, type EnvSource } from '@llmops/platform-config';
import { z } from 'zod';

export const DEFAULT_SENSITIVE_DETAIL_FIELDS = [
  'email',
  'username',
  'password',
  'token',
  'secret',
  'value',
  'api_key',
  'authorization',
  'phone',
];

export const auditServiceEnvSchema = z.object({
  ...infrastructureEnv,
  AUDIT_SERVICE_HOST: z.string().default('127.0.0.1'),
  AUDIT_SERVICE_GRPC_PORT: port(50053),
  AUDIT_SERVICE_OPS_PORT: port(9103),
  /** Ed25519 private key (PKCS#8 PEM) signing tree heads; generated into DATA_DIR when unset outside production. */
  AUDIT_SIGNING_KEY: sensitive(
    z.string().refine((value) => value.includes('-----BEGIN PRIVATE KEY-----'), 'must be a PKCS#8 PEM Ed25519 private key'),
  ).optional(),
  /** HMAC-SHA256 key for sensitive detail fields, at least 32 bytes as hex or base64. */
  AUDIT_HMAC_KEY: sensitive(
    z.string().refine((value) => decodeKey(value).length >= 32, 'must be at least 32 bytes, hex or base64'),
  ).optional(),
  AUDIT_SENSITIVE_FIELDS: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/, 'must be a comma-separated list of field names')
    .default(DEFAULT_SENSITIVE_DETAIL_FIELDS.join(',')),
  /** Most events committed (and covered by one signed tree head) together. */
  AUDIT_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(1000),
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).default(2557),
  /** Where partitions past retention are written as JSON lines before they are dropped; unset drops them. */
  AUDIT_ARCHIVE_DIR: z.string().optional(),
});
export type AuditServiceEnv = z.infer<typeof auditServiceEnvSchema>;

export function loadAuditServiceEnv(source: EnvSource = process.env): AuditServiceEnv {
  const env = parseEnv('audit-service', auditServiceEnvSchema, source);
  // Keys generated into DATA_DIR are for the embedded developer setup only.
  if (env.NODE_ENV === 'production') {
    const missing = (['AUDIT_SIGNING_KEY', 'AUDIT_HMAC_KEY'] as const).filter((name) => !env[name]);
    if (missing.length > 0) {
      throw new EnvValidationError(
        'audit-service',
        missing.map((variable) => ({ variable, message: 'required when NODE_ENV=production (unset)' })),
      );
    }
  }
  return env;
}

/** A key given as hex (even length, hex digits only) or else base64. */
export function decodeKey(value: string): Buffer {
  const trimmed = value.trim();
  return /^(?:[0-9a-fA-F]{2})+$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
}
