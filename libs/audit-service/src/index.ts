export { AUDIT_MIGRATIONS, AUDIT_SERVICE, AuditServiceHost, type AuditServiceInfrastructure } from './audit-service.host.js';
export { auditServiceEnvSchema, loadAuditServiceEnv, type AuditServiceEnv } from './audit-service.env.js';
export { runVerifyCli } from './verifier/verify-cli.js';
