import { infrastructureEnv, parseEnv, port, type EnvSource } from '@llmops/platform-config';
import { z } from 'zod';

export const auditServiceEnvSchema = z.object({
  ...infrastructureEnv,
  AUDIT_SERVICE_HOST: z.string().default('127.0.0.1'),
  AUDIT_SERVICE_GRPC_PORT: port(50053),
  AUDIT_SERVICE_OPS_PORT: port(9103),
});
export type AuditServiceEnv = z.infer<typeof auditServiceEnvSchema>;

export function loadAuditServiceEnv(source: EnvSource = process.env): AuditServiceEnv {
  return parseEnv('audit-service', auditServiceEnvSchema, source);
}
