import { AuditService, ConfigService, SecretService } from '@llmops/contracts';
import type { GrpcClient } from '@llmops/platform-grpc';

export const CONFIG_CLIENT = Symbol('CONFIG_CLIENT');
export const AUDIT_CLIENT = Symbol('AUDIT_CLIENT');
export const SECRET_CLIENT = Symbol('SECRET_CLIENT');

export type ConfigClient = GrpcClient<typeof ConfigService>;
export type AuditClient = GrpcClient<typeof AuditService>;
export type SecretClient = GrpcClient<typeof SecretService>;
