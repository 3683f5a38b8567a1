import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { TokenService } from '@llmops/platform-auth';
import type { HealthRegistry, Logger } from '@llmops/platform-observability';
import type { Database } from '@llmops/platform-persistence';
import type { Registry } from 'prom-client';
import { AccessGuard, RATE_LIMITERS, type RateLimiters } from './access/access.guard.js';
import { ApiKeysController } from './api-keys/api-keys.controller.js';
import { ApiKeysService } from './api-keys/api-keys.service.js';
import { AuditLogsController } from './audit-logs/audit-logs.controller.js';
import { ComplianceController } from './audit-logs/compliance.controller.js';
import { AuthController } from './auth/auth.controller.js';
import { AuthService } from './auth/auth.service.js';
import { SecurityEvents } from './auth/security-events.js';
import { ConfigsController } from './configs/configs.controller.js';
import { NamespacesController } from './configs/namespaces.controller.js';
import { ErrorEnvelopeFilter } from './errors/error-envelope.filter.js';
import { GATEWAY_HEALTH, GATEWAY_METRICS, OperationsController } from './operations/operations.controller.js';
import { RoleBindingsController } from './role-bindings/role-bindings.controller.js';
import { RoleBindingsService } from './role-bindings/role-bindings.service.js';
import { JwksController } from './secrets/jwks.controller.js';
import { SecretKeysController } from './secrets/secret-keys.controller.js';
import { SecretsController } from './secrets/secrets.controller.js';
import { UsersController } from './users/users.controller.js';
import { UsersService } from './users/users.service.js';
import { VAULT_ERROR_LOGGER } from './vault/vault-error.filter.js';
import { VaultController } from './vault/vault.controller.js';
import {
  AUDIT_CLIENT,
  CONFIG_CLIENT,
  LLM_CONFIG_CLIENT,
  SECRET_CLIENT,
  type AuditClient,
  type ConfigClient,
  type LlmConfigClient,
  type SecretClient,
} from './upstreams/upstream-clients.js';
import { BudgetsController } from './llm-configs/budgets.controller.js';
import { CostsController } from './llm-configs/costs.controller.js';
import { LlmConfigsController } from './llm-configs/llm-configs.controller.js';
import { PromptsController } from './llm-configs/prompts.controller.js';
import { UsageController } from './llm-configs/usage.controller.js';
import { CredentialStateCache } from './auth/credential-state-cache.js';
import { ConfigReadCache } from './config-cache/config-read-cache.js';

export interface ApiGatewayDependencies {
  database: Database;
  tokens: TokenService;
  logger: Logger;
  registry: Registry;
  health: HealthRegistry;
  limiters: RateLimiters;
  configClient: ConfigClient;
  llmConfigClient: LlmConfigClient;
  auditClient: AuditClient;
  secretClient: SecretClient;
  /** Config reads served at the edge while config-manager's watch keeps them coherent; absent, every read goes upstream. */
  configReadCache?: ConfigReadCache;
  apiKeyPepper?: string;
  securityEvents: SecurityEvents;
}

@Module({})
export class ApiGatewayModule {
  static register(deps: ApiGatewayDependencies): DynamicModule {
    // One per gateway, so the services that change an account or a key make its cached state go at once.
    const credentialStates = new CredentialStateCache();
    return {
      module: ApiGatewayModule,
      controllers: [
        AuthController,
        ApiKeysController,
        UsersController,
        RoleBindingsController,
        ConfigsController,
        NamespacesController,
        LlmConfigsController,
        PromptsController,
        BudgetsController,
        UsageController,
        CostsController,
        AuditLogsController,
        ComplianceController,
        SecretsController,
        SecretKeysController,
        JwksController,
        VaultController,
        OperationsController,
      ],
      providers: [
        { provide: SecurityEvents, useValue: deps.securityEvents },
        { provide: AuthService, useValue: new AuthService(deps.database, deps.tokens, deps.logger, deps.securityEvents, credentialStates) },
        {
          provide: ApiKeysService,
          useValue: new ApiKeysService(deps.database, deps.apiKeyPepper, deps.logger, deps.securityEvents, credentialStates),
        },
        { provide: UsersService, useValue: new UsersService(deps.database, deps.securityEvents, credentialStates) },
        { provide: RoleBindingsService, useValue: new RoleBindingsService(deps.database, deps.securityEvents, credentialStates) },
        { provide: RATE_LIMITERS, useValue: deps.limiters },
        { provide: CONFIG_CLIENT, useValue: deps.configClient },
        { provide: LLM_CONFIG_CLIENT, useValue: deps.llmConfigClient },
        { provide: AUDIT_CLIENT, useValue: deps.auditClient },
        { provide: SECRET_CLIENT, useValue: deps.secretClient },
        ...(deps.configReadCache ? [{ provide: ConfigReadCache, useValue: deps.configReadCache }] : []),
        { provide: GATEWAY_HEALTH, useValue: deps.health },
        { provide: GATEWAY_METRICS, useValue: deps.registry },
        { provide: APP_GUARD, useClass: AccessGuard },
        { provide: APP_FILTER, useValue: new ErrorEnvelopeFilter(deps.logger) },
        { provide: VAULT_ERROR_LOGGER, useValue: deps.logger },
      ],
    };
  }
}
