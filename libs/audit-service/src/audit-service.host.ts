import { NestFactory } from '@nestjs/core';
import { AuditService } from '@llmops/contracts';
import type { EventBus } from '@llmops/platform-messaging';
import type { Logger } from '@llmops/platform-observability';
import { GrpcServiceHost } from '@llmops/platform-service-host';
import type { Registry } from 'prom-client';
import { loadAuditKeyMaterial } from './audit-key-material.js';
import type { AuditServiceEnv } from './audit-service.env.js';
import { AuditLogRecorder } from './audit-logs/audit-log-recorder.js';
import { AuditLogsGrpcController } from './audit-logs/audit-logs.grpc-controller.js';
import { AuditLogsModule } from './audit-logs/audit-logs.module.js';
import { ensureMonthlyPartitions } from './audit-logs/audit-partitions.js';
import { AuditRetention } from './audit-logs/audit-retention.js';
import { mapAuditExceptionToGrpc } from './audit-logs/exceptions/audit-exception.grpc-mapper.js';
import { SensitiveDetailHasher } from './audit-logs/sensitive-detail-hasher.js';
import { MerkleLogWriter } from './merkle-log/merkle-log-writer.js';
import { TreeHeadSigner } from './merkle-log/tree-head-signer.js';
import { AUDIT_SCHEMA, CreateAuditLogs1763800000000 } from './migrations/1763800000000-CreateAuditLogs.js';
import { AddMerkleLog1763900000000 } from './migrations/1763900000000-AddMerkleLog.js';

export const AUDIT_SERVICE = 'audit-service';
export const AUDIT_MIGRATIONS = [CreateAuditLogs1763800000000, AddMerkleLog1763900000000];
const MAINTENANCE_INTERVAL_MS = 6 * 60 * 60 * 1000;

export interface AuditServiceInfrastructure {
  logger: Logger;
  registry: Registry;
  eventBus: () => EventBus;
}

/**
 * audit-service as a hosted service: the Merkle log (keys, backfill), monthly partitions and retention, the durable
 * event consumer, gRPC AuditService and ops HTTP.
 */
export class AuditServiceHost extends GrpcServiceHost {
  constructor(env: AuditServiceEnv, infra: AuditServiceInfrastructure) {
    super(
      {
        name: AUDIT_SERVICE,
        dependsOn: ['event-bus'],
        database: { schema: AUDIT_SCHEMA, url: env.DATABASE_URL, dataRoot: env.DATA_DIR, entities: [], migrations: AUDIT_MIGRATIONS },
        grpc: { host: env.AUDIT_SERVICE_HOST, port: env.AUDIT_SERVICE_GRPC_PORT, errorMapper: mapAuditExceptionToGrpc },
        opsPort: env.AUDIT_SERVICE_OPS_PORT,
        logger: infra.logger,
        registry: infra.registry,
      },
      async (database, logger) => {
        const keys = await loadAuditKeyMaterial({ signingKeyPem: env.AUDIT_SIGNING_KEY, hmacKey: env.AUDIT_HMAC_KEY, dataDir: env.DATA_DIR });
        if (keys.generated.length > 0) logger.warn({ generated: keys.generated, dataDir: env.DATA_DIR }, 'audit keys generated for development');
        const signer = new TreeHeadSigner(keys.signingKey, keys.publicKey);
        const hasher = new SensitiveDetailHasher(keys.hmacKey, env.AUDIT_SENSITIVE_FIELDS.split(','));
        await ensureMonthlyPartitions(database.dataSource);
        const context = await NestFactory.createApplicationContext(
          AuditLogsModule.register({ database, logger, signer, hasher, maxBatchSize: env.AUDIT_BATCH_SIZE }),
          { logger: false },
        );
        const writer = context.get(MerkleLogWriter);
        await database.dataSource.transaction(async (manager) => {
          await signer.publish(manager);
          const backfilled = await writer.backfill(manager, await writer.lock(manager));
          if (backfilled > 0) logger.info({ entries: backfilled }, 'existing audit entries hashed into the Merkle log');
        });
        const recorder = context.get(AuditLogRecorder);
        const retention = new AuditRetention(database, recorder, logger, {
          retentionDays: env.AUDIT_RETENTION_DAYS,
          archiveDir: env.AUDIT_ARCHIVE_DIR,
        });
        const maintain = async (): Promise<void> => {
          await ensureMonthlyPartitions(database.dataSource);
          await retention.run();
        };
        await maintain();
        const maintenanceTimer = setInterval(() => {
          maintain().catch((error: unknown) => logger.error({ err: error }, 'audit partition maintenance failed'));
        }, MAINTENANCE_INTERVAL_MS);
        maintenanceTimer.unref();
        await recorder.start(infra.eventBus(), env.NATS_SUBJECT_ROOT);
        return {
          register: (server) => server.addService(AuditService, context.get(AuditLogsGrpcController).implementation()),
          stop: async () => {
            clearInterval(maintenanceTimer);
            await recorder.stop();
            await context.close();
          },
        };
      },
    );
  }
}
