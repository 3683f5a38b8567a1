import { AuditService, ConfigService, LlmConfigService, SecretService } from '@llmops/contracts';
import type { GrpcClient } from '@llmops/platform-grpc';

export const CONFIG_CLIENT = Symbol('CONFIG_CLIENT');
export const AUDIT_CLIENT = Symbol('AUDIT_CLIENT');
export const SECRET_CLIENT = Symbol('SECRET_CLIENT');
/** LlmConfigService lives in config-manager: same address as CONFIG_CLIENT, a client of its own. */
export const LLM_CONFIG_CLIENT = Symbol('LLM_CONFIG_CLIENT');

export type ConfigClient = GrpcClient<typeof ConfigService>;
export type AuditClient = GrpcClient<typeof AuditService>;
export type SecretClient = GrpcClient<typeof SecretService>;
export type LlmConfigClient = GrpcClient<typeof LlmConfigService>;
