import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { ConfigService } from '@llmops/contracts';
import { GrpcServer } from '@llmops/platform-grpc';
import { Outbox, OutboxRelay, type EventBus } from '@llmops/platform-messaging';
import { HealthRegistry, startOpsServer, type Logger } from '@llmops/platform-observability';
import { openDatabase, type Database } from '@llmops/platform-persistence';
import type { HealthReport, HostedService } from '@llmops/platform-runtime';
import type { Registry } from 'prom-client';
import type { ConfigManagerEnv } from './config-manager.env.js';
import { ConfigEntryEntity } from './configs/config-entry.entity.js';
import { ConfigsGrpcController } from './configs/configs.grpc-controller.js';
import { ConfigsModule } from './configs/configs.module.js';
import { mapConfigExceptionToGrpc } from './configs/exceptions/config-exception.grpc-mapper.js';
import { CONFIG_MANAGER_SCHEMA, CreateConfigEntries1763800000000 } from './migrations/1763800000000-CreateConfigEntries.js';

export const CONFIG_MANAGER = 'config-manager';

export interface ConfigManagerInfrastructure {
  logger: Logger;
  registry: Registry;
  /** The bus is its own hosted service, started first; it is read at start so a restarted bus is picked up. */
  eventBus: () => EventBus;
}

interface Running {
  database: Database;
  relay: OutboxRelay;
  context: INestApplicationContext;
  server: GrpcServer;
  ops: { port: number; close(): Promise<void> };
}

/** config-manager as a hosted service: database + outbox relay + gRPC ConfigService + ops HTTP (health, metrics). */
export class ConfigManagerHost implements HostedService {
  readonly name = CONFIG_MANAGER;
  readonly dependsOn = ['event-bus'];
  private running?: Running;
  grpcPort?: number;

  constructor(
    private readonly env: ConfigManagerEnv,
    private readonly infra: ConfigManagerInfrastructure,
  ) {}

  async start(): Promise<void> {
    const logger = this.infra.logger.child({ component: CONFIG_MANAGER });
    const database = await openDatabase({
      service: CONFIG_MANAGER,
      schema: CONFIG_MANAGER_SCHEMA,
      url: this.env.DATABASE_URL,
      dataDir: join(this.env.DATA_DIR, CONFIG_MANAGER, 'pg'),
      entities: [ConfigEntryEntity],
      migrations: [CreateConfigEntries1763800000000],
      logger,
    });
    const relay = new OutboxRelay({
      dataSource: database.dataSource,
      schema: CONFIG_MANAGER_SCHEMA,
      bus: this.infra.eventBus(),
      logger,
      registry: this.infra.registry,
    });
    relay.start();
    const context = await NestFactory.createApplicationContext(
      ConfigsModule.register({
        database,
        outbox: new Outbox({ source: CONFIG_MANAGER, schema: CONFIG_MANAGER_SCHEMA, subjectRoot: this.env.NATS_SUBJECT_ROOT }),
      }),
      { logger: false },
    );
    const server = new GrpcServer({
      host: this.env.CONFIG_MANAGER_HOST,
      port: this.env.CONFIG_MANAGER_GRPC_PORT,
      logger,
      errorMapper: mapConfigExceptionToGrpc,
      registry: this.infra.registry,
    });
    server.addService(ConfigService, context.get(ConfigsGrpcController).implementation());
    this.grpcPort = await server.start();
    const health = new HealthRegistry();
    health.add('database', () => database.ping());
    const ops = await startOpsServer({
      host: this.env.CONFIG_MANAGER_HOST,
      port: this.env.CONFIG_MANAGER_OPS_PORT,
      health,
      registry: this.infra.registry,
      logger,
    });
    this.running = { database, relay, context, server, ops };
    logger.info({ grpcPort: this.grpcPort, opsPort: ops.port, embedded: database.embedded }, 'config-manager started');
  }

  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    await running.server.stop(5_000);
    await running.ops.close();
    await running.relay.stop();
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
