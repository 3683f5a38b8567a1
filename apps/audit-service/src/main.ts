import { AUDIT_SERVICE, AuditServiceHost, loadAuditServiceEnv } from '@llmops/audit-service';
import { runApp } from '@llmops/platform-service-host';

await runApp({
  name: AUDIT_SERVICE,
  loadEnv: loadAuditServiceEnv,
  infrastructureOf: (env) => env,
  services: (env, infra) => [new AuditServiceHost(env, infra)],
});
