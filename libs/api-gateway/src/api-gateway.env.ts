import { EnvValidationError, infrastructureEnv, parseEnv, port, sensitive, type EnvSource } from '@llmops/platform-config';
import { z } from 'zod';

const grpcAddress = z.string().regex(/^[\w.-]+:\d{1,5}$/, 'must be host:port');

export const apiGatewayEnvSchema = z.object({
  ...infrastructureEnv,
  GATEWAY_HOST: z.string().default('0.0.0.0'),
  GATEWAY_PORT: port(8080),
  GATEWAY_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  CONFIG_MANAGER_URL: grpcAddress.default('127.0.0.1:50051'),
  AUDIT_SERVICE_URL: grpcAddress.default('127.0.0.1:50053'),
  SECRET_SERVICE_URL: grpcAddress.default('127.0.0.1:50052'),
  JWT_PRIVATE_KEY: sensitive(z.string().includes('PRIVATE KEY', { message: 'must be a PEM private key' })).optional(),
  JWT_PUBLIC_KEY: z.string().includes('PUBLIC KEY', { message: 'must be a PEM public key' }).optional(),
  JWT_ISSUER: z.string().default('llmops-api-gateway'),
  JWT_AUDIENCE: z.string().default('llmops'),
  JWT_ACCESS_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  JWT_REFRESH_TTL_SECONDS: z.coerce.number().int().min(300).max(90 * 86_400).default(7 * 86_400),
  ADMIN_EMAIL: z.email({ message: 'must be an email address' }).optional(),
  ADMIN_PASSWORD: sensitive(z.string().min(12, 'must be at least 12 characters')).optional(),
  API_KEY_PEPPER: sensitive(z.string().min(16, 'must be at least 16 characters')).optional(),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(1200),
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  /** How long the edge cache may keep a config read no change event has invalidated (a backstop only). */
  GATEWAY_CONFIG_CACHE_TTL_MS: z.coerce.number().int().min(100).max(3_600_000).default(5_000),
  TRUST_PROXY: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});

export type ApiGatewayEnv = z.infer<typeof apiGatewayEnvSchema>;

export function loadApiGatewayEnv(source: EnvSource = process.env): ApiGatewayEnv {
  const env = parseEnv('api-gateway', apiGatewayEnvSchema, source);
  // Generated signing keys and admin passwords are for the embedded developer setup only.
  if (env.NODE_ENV === 'production') {
    const missing = (['JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEY', 'API_KEY_PEPPER'] as const).filter((name) => !env[name]);
    if (missing.length > 0) {
      throw new EnvValidationError(
        'api-gateway',
        missing.map((variable) => ({ variable, message: 'required when NODE_ENV=production (unset)' })),
      );
    }
  }
  return env;
}
