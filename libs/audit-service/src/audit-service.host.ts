import { NestFactory } from '@nestjs/core';
import { AuditService } from '@llmops/contracts';
import type { EventBus } from '@llmops/platform-messaging';
import type { Logger } from '@llmops/platform-observability';
import { GrpcServiceHost } from '@llmops/platform-service-host';
import type { Registry } from 'prom-client';
import type { AuditServiceEnv } from './audit-service.env.js';
import { AuditLogRecorder } from './audit-logs/audit-log-recorder.js';
import { AuditLogsGrpcController } from './audit-logs/audit-logs.grpc-controller.js';
import { AuditLogsModule } from './audit-logs/audit-logs.module.js';
import { ensureMonthlyPartitions } from './audit-logs/audit-partitions.js';
import { mapAuditExceptionToGrpc } from './audit-logs/exceptions/audit-exception.grpc-mapper.js';
import { AUDIT_SCHEMA, CreateAuditLogs1763800000000 } from './migrations/1763800000000-CreateAuditLogs.js';

export const AUDIT_SERVICE = 'audit-service';
const PARTITION_CHECK_MS = 6 * 60 * 60 * 1000;

export interface AuditServiceInfrastructure {
  logger: Logger;
  registry: Registry;
  eventBus: () => EventBus;
}

/** audit-service as a hosted service: monthly partitions, durable event consumer, gRPC AuditService, ops HTTP. */
export class AuditServiceHost extends GrpcServiceHost {
  constructor(env: AuditServiceEnv, infra: AuditServiceInfrastructure) {
    super(
      {
        name: AUDIT_SERVICE,
        dependsOn: ['event-bus'],
        database: {
          schema: AUDIT_SCHEMA,
          url: env.DATABASE_URL,
          dataRoot: env.DATA_DIR,
          entities: [],
          migrations: [CreateAuditLogs1763800000000],
        },
        grpc: { host: env.AUDIT_SERVICE_HOST, port: env.AUDIT_SERVICE_GRPC_PORT, errorMapper: mapAuditExceptionToGrpc },
        opsPort: env.AUDIT_SERVICE_OPS_PORT,
        logger: infra.logger,
        registry: infra.registry,
      },
      async (database, logger) => {
        await ensureMonthlyPartitions(database.dataSource);
        const partitionTimer = setInterval(() => {
          ensureMonthlyPartitions(database.dataSource).catch((error: unknown) =>
            logger.error({ err: error }, 'creating audit partitions failed'),
          );
        }, PARTITION_CHECK_MS);
        partitionTimer.unref();
        const context = await NestFactory.createApplicationContext(AuditLogsModule.register({ database, logger }), {
          logger: false,
        });
        const recorder = context.get(AuditLogRecorder);
        await recorder.start(infra.eventBus(), env.NATS_SUBJECT_ROOT);
        return {
          register: (server) => server.addService(AuditService, context.get(AuditLogsGrpcController).implementation()),
          stop: async () => {
            clearInterval(partitionTimer);
            await recorder.stop();
            await context.close();
          },
        };
      },
    );
  }
}
