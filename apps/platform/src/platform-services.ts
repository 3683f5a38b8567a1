import { ApiGatewayHost, loadApiGatewayEnv, type ApiGatewayEnv } from '@llmops/api-gateway';
import { AUDIT_SERVICE, AuditServiceHost, loadAuditServiceEnv, type AuditServiceEnv } from '@llmops/audit-service';
import { CONFIG_MANAGER, ConfigManagerHost, loadConfigManagerEnv, type ConfigManagerEnv } from '@llmops/config-manager';
import { SECRET_SERVICE, SecretServiceHost, loadSecretServiceEnv, type SecretServiceEnv } from '@llmops/secret-service';
import { EnvValidationError, type EnvIssue, type EnvSource } from '@llmops/platform-config';
import type { HostedService } from '@llmops/platform-runtime';
import type { AppInfrastructure, RunAppOptions } from '@llmops/platform-service-host';

export interface PlatformEnv {
  configManager: ConfigManagerEnv;
  auditService: AuditServiceEnv;
  secretService: SecretServiceEnv;
  gateway: ApiGatewayEnv;
}

/**
 * Every service's environment, validated together so one run reports every bad variable. In one process the
 * gateway reaches the services on loopback unless their addresses are given.
 */
export function loadPlatformEnv(source: EnvSource = process.env): PlatformEnv {
  const issues: EnvIssue[] = [];
  const validated = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (error) {
      if (!(error instanceof EnvValidationError)) throw error;
      for (const issue of error.issues) {
        if (!issues.some((known) => known.variable === issue.variable)) issues.push(issue);
      }
      return undefined;
    }
  };
  const configManager = validated(() => loadConfigManagerEnv(source));
  const auditService = validated(() => loadAuditServiceEnv(source));
  const secretService = validated(() => loadSecretServiceEnv(source));
  const gateway = validated(() =>
    loadApiGatewayEnv({
      ...source,
      CONFIG_MANAGER_URL: source.CONFIG_MANAGER_URL || `127.0.0.1:${configManager?.CONFIG_MANAGER_GRPC_PORT ?? 50051}`,
      AUDIT_SERVICE_URL: source.AUDIT_SERVICE_URL || `127.0.0.1:${auditService?.AUDIT_SERVICE_GRPC_PORT ?? 50053}`,
      SECRET_SERVICE_URL: source.SECRET_SERVICE_URL || `127.0.0.1:${secretService?.SECRET_SERVICE_GRPC_PORT ?? 50052}`,
    }),
  );
  if (issues.length > 0 || !configManager || !auditService || !secretService || !gateway) throw new EnvValidationError('platform', issues);
  return { configManager, auditService, secretService, gateway };
}

/** The slice's services in one process; they share the app's event bus (in-process unless NATS_URL is set). */
export function platformServices(env: PlatformEnv, infra: AppInfrastructure): HostedService[] {
  const secretService = new SecretServiceHost(env.secretService, infra);
  const configManager = new ConfigManagerHost(env.configManager, {
    ...infra,
    secretServiceAddress: () => `127.0.0.1:${secretService.grpcPort ?? env.secretService.SECRET_SERVICE_GRPC_PORT}`,
  });
  const auditService = new AuditServiceHost(env.auditService, infra);
  const gateway = new ApiGatewayHost(
    env.gateway,
    {
      ...infra,
      upstreams: () => ({
        configManager: `127.0.0.1:${configManager.grpcPort ?? env.configManager.CONFIG_MANAGER_GRPC_PORT}`,
        auditService: `127.0.0.1:${auditService.grpcPort ?? env.auditService.AUDIT_SERVICE_GRPC_PORT}`,
        secretService: `127.0.0.1:${secretService.grpcPort ?? env.secretService.SECRET_SERVICE_GRPC_PORT}`,
      }),
    },
    [CONFIG_MANAGER, AUDIT_SERVICE, SECRET_SERVICE],
  );
  return [configManager, auditService, secretService, gateway];
}

/** The all-in-one app, as `main.ts` runs it and the end-to-end tests start it. */
export const platformApp: RunAppOptions<PlatformEnv> = {
  name: 'platform',
  loadEnv: loadPlatformEnv,
  infrastructureOf: (env) => env.gateway,
  services: platformServices,
};
