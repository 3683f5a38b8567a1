import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuditService } from '@llmops/contracts';
import { GrpcServer } from '@llmops/platform-grpc';
import type { EventBus } from '@llmops/platform-messaging';
import { HealthRegistry, startOpsServer, type Logger } from '@llmops/platform-observability';
import { openDatabase, type Database } from '@llmops/platform-persistence';
import type { HealthReport, HostedService } from '@llmops/platform-runtime';
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

interface Running {
  database: Database;
  recorder: AuditLogRecorder;
  context: INestApplicationContext;
  server: GrpcServer;
  ops: { port: number; close(): Promise<void> };
  partitionTimer: NodeJS.Timeout;
}

/** audit-service as a hosted service: durable event consumer + gRPC AuditService + ops HTTP (health, metrics). */
export class AuditServiceHost implements HostedService {
  readonly name = AUDIT_SERVICE;
  readonly dependsOn = ['event-bus'];
  private running?: Running;
  grpcPort?: number;

  constructor(
    private readonly env: AuditServiceEnv,
    private readonly infra: AuditServiceInfrastructure,
  ) {}

  async start(): Promise<void> {
    const logger = this.infra.logger.child({ component: AUDIT_SERVICE });
    const database = await openDatabase({
      service: AUDIT_SERVICE,
      schema: AUDIT_SCHEMA,
      url: this.env.DATABASE_URL,
      dataDir: join(this.env.DATA_DIR, AUDIT_SERVICE, 'pg'),
      entities: [],
      migrations: [CreateAuditLogs1763800000000],
      logger,
    });
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
    await recorder.start(this.infra.eventBus(), this.env.NATS_SUBJECT_ROOT);
    const server = new GrpcServer({
      host: this.env.AUDIT_SERVICE_HOST,
      port: this.env.AUDIT_SERVICE_GRPC_PORT,
      logger,
      errorMapper: mapAuditExceptionToGrpc,
      registry: this.infra.registry,
    });
    server.addService(AuditService, context.get(AuditLogsGrpcController).implementation());
    this.grpcPort = await server.start();
    const health = new HealthRegistry();
    health.add('database', () => database.ping());
    const ops = await startOpsServer({
      host: this.env.AUDIT_SERVICE_HOST,
      port: this.env.AUDIT_SERVICE_OPS_PORT,
      health,
      registry: this.infra.registry,
      logger,
    });
    this.running = { database, recorder, context, server, ops, partitionTimer };
    logger.info({ grpcPort: this.grpcPort, opsPort: ops.port, embedded: database.embedded }, 'audit-service started');
  }

  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    clearInterval(running.partitionTimer);
    await running.server.stop(5_000);
    await running.ops.close();
    await running.recorder.stop();
    await running.context.close();
    await running.database.close();
  }

  async health(): Promise<HealthReport> {
    if (!this.running) return { healthy: false, detail: 'not started' };
    try {
      await this.running.database.ping(2_000);
      return { healthy: true };
    } catch (error) {
      return { healthy: false, detail: `database: ${(error as Error).message}` };
    }
  }
}
