import { AuditService, ConfigService } from '@llmops/contracts';
import type { GrpcClient } from '@llmops/platform-grpc';

export const CONFIG_CLIENT = Symbol('CONFIG_CLIENT');
export const AUDIT_CLIENT = Symbol('AUDIT_CLIENT');

export type ConfigClient = GrpcClient<typeof ConfigService>;
export type AuditClient = GrpcClient<typeof AuditService>;
