import { infrastructureEnv, parseEnv, port, type EnvSource } from '@llmops/platform-config';
import { z } from 'zod';

export const configManagerEnvSchema = z.object({
  ...infrastructureEnv,
  CONFIG_MANAGER_HOST: z.string().default('127.0.0.1'),
  CONFIG_MANAGER_GRPC_PORT: port(50051),
  CONFIG_MANAGER_OPS_PORT: port(9101),
});
export type ConfigManagerEnv = z.infer<typeof configManagerEnvSchema>;

export function loadConfigManagerEnv(source: EnvSource = process.env): ConfigManagerEnv {
  return parseEnv('config-manager', configManagerEnvSchema, source);
}
