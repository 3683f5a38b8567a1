import { infrastructureEnv, parseEnv, port, type EnvSource } from '@llmops/platform-config';
import { z } from 'zod';

export const configManagerEnvSchema = z.object({
  ...infrastructureEnv,
  CONFIG_MANAGER_HOST: z.string().default('127.0.0.1'),
  CONFIG_MANAGER_GRPC_PORT: port(50051),
  CONFIG_MANAGER_OPS_PORT: port(9101),
  /** secret-service's gRPC address, for reads that resolve `{"$secret": path}` references. */
  SECRET_SERVICE_URL: z.string().regex(/^[\w.-]+:\d{1,5}$/, 'must be host:port').default('127.0.0.1:50052'),
});
export type ConfigManagerEnv = z.infer<typeof configManagerEnvSchema>;

export function loadConfigManagerEnv(source: EnvSource = process.env): ConfigManagerEnv {
  return parseEnv('config-manager', configManagerEnvSchema, source);
}
