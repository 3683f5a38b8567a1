import { EnvValidationError, infrastructureEnv, parseEnv, port, sensitive, type EnvSource } from '@llmops/platform-config';
import { z } from 'zod';

const KEYRING_ENTRY = /^\d+:[A-Za-z0-9+/]{43}=$/;

export const secretServiceEnvSchema = z.object({
  ...infrastructureEnv,
  SECRET_SERVICE_HOST: z.string().default('127.0.0.1'),
  SECRET_SERVICE_GRPC_PORT: port(50052),
  SECRET_SERVICE_OPS_PORT: port(9102),
  /** Which KMS wraps data keys: `local` (a versioned keyring) or `aws-kms`. */
  SECRET_KMS_PROVIDER: z.enum(['local', 'aws-kms']).default('local'),
  /**
   * The local keyring as `<version>:<base64 of 32 bytes>` pairs, comma-separated; the highest version encrypts new
   * data keys. Unset: a keyring file generated in DATA_DIR (developer setups only).
   */
  SECRET_KEYRING: sensitive(
    z
      .string()
      .refine(
        (value) => value.split(',').every((entry) => KEYRING_ENTRY.test(entry.trim())),
        'must be comma-separated <version>:<base64 of 32 bytes> entries',
      ),
  ).optional(),
  /** Key versions below this no longer decrypt (Vault Transit's min_decryption_version). */
  SECRET_KEYRING_MIN_DECRYPTION_VERSION: z.coerce.number().int().min(1).optional(),
  /**
   * The key version that wraps new data keys (SECRET_KEYRING or SECRET_AWS_KMS_KEYS); the highest by default. A rolling
   * key rotation adds the version everywhere first, then raises this once no replica is left without the new key.
   */
  SECRET_KEYRING_CURRENT_VERSION: z.coerce.number().int().min(1).optional(),
  /** aws-kms: `<version>=<key id, ARN or alias>` pairs, comma-separated; the highest version encrypts. */
  SECRET_AWS_KMS_KEYS: z.string().optional(),
  SECRET_AWS_REGION: z.string().optional(),
  /** How many data keys the background job rewraps per transaction after a key-encryption key rotation. */
  SECRET_REWRAP_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  /** How often due rotations and ended overlaps are looked for. */
  SECRET_ROTATION_CHECK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(30),
});
export type SecretServiceEnv = z.infer<typeof secretServiceEnvSchema>;

export function loadSecretServiceEnv(source: EnvSource = process.env): SecretServiceEnv {
  const env = parseEnv('secret-service', secretServiceEnvSchema, source);
  const issues: Array<{ variable: string; message: string }> = [];
  if (env.SECRET_KMS_PROVIDER === 'aws-kms') {
    if (!env.SECRET_AWS_KMS_KEYS) issues.push({ variable: 'SECRET_AWS_KMS_KEYS', message: 'required when SECRET_KMS_PROVIDER=aws-kms (unset)' });
    if (!env.SECRET_AWS_REGION) issues.push({ variable: 'SECRET_AWS_REGION', message: 'required when SECRET_KMS_PROVIDER=aws-kms (unset)' });
  } else if (env.NODE_ENV === 'production' && !env.SECRET_KEYRING) {
    // A keyring file generated on one pod's disk would make every other replica unable to decrypt.
    issues.push({ variable: 'SECRET_KEYRING', message: 'required when NODE_ENV=production with the local KMS provider (unset)' });
  }
  if (issues.length > 0) throw new EnvValidationError('secret-service', issues);
  return env;
}
