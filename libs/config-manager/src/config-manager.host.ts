import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigService, LlmConfigService, SecretService } from '@llmops/contracts';
import { createGrpcClient, type GrpcClient } from '@llmops/platform-grpc';
import { RedisCacheLayer } from '@llmops/platform-cache';
import { Outbox, OutboxRelay, type EventBus, type Subscription } from '@llmops/platform-messaging';
import type { Logger } from '@llmops/platform-observability';
import { GrpcServiceHost } from '@llmops/platform-service-host';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { ConfigManagerEnv } from './config-manager.env.js';
import { DenialRecorder, recordingDenials } from './access-denials/denial-recorder.js';
import { listenForConfigCommits } from './configs/config-commit-announcements.js';
import { ConfigEntryEntity } from './configs/config-entry.entity.js';
import { ConfigsGrpcController } from './configs/configs.grpc-controller.js';
import { ConfigsModule } from './configs/configs.module.js';
import { ConfigsService } from './configs/configs.service.js';
import { mapConfigExceptionToGrpc } from './configs/exceptions/config-exception.grpc-mapper.js';
import { CONFIG_MANAGER_SCHEMA, CreateConfigEntries1763800000000 } from './migrations/1763800000000-CreateConfigEntries.js';
import { AddNamespaceSettings1763900000000 } from './migrations/1763900000000-AddNamespaceSettings.js';
import { AddMaxVersionsAndCompaction1764050000000 } from './migrations/1764050000000-AddMaxVersionsAndCompaction.js';
import { AddPromptsAndBudgets1764100000000 } from './migrations/1764100000000-AddPromptsAndBudgets.js';
import { AddUsageOutcome1764200000000 } from './migrations/1764200000000-AddUsageOutcome.js';
import { AddKeyWriteStart1764300000000 } from './migrations/1764300000000-AddKeyWriteStart.js';
import { LlmConfigGrpcController } from './llm-configs/llm-config.grpc-controller.js';
import { LlmConfigModule } from './llm-configs/llm-config.module.js';
import { SecretReferenceResolver } from './secret-references/secret-reference-resolver.js';

export const CONFIG_MANAGER = 'config-manager';

export const CONFIG_MANAGER_MIGRATIONS = [CreateConfigEntries1763800000000, AddNamespaceSettings1763900000000, AddMaxVersionsAndCompaction1764050000000, AddPromptsAndBudgets1764100000000, AddUsageOutcome1764200000000, AddKeyWriteStart1764300000000];

export interface ConfigManagerInfrastructure {
  logger: Logger;
  registry: Registry;
  /** The bus is its own hosted service, started first; it is read at start so a restarted bus is picked up. */
  eventBus: () => EventBus;
  /** Where secret-service listens, when it is not SECRET_SERVICE_URL (in one process it binds an ephemeral port). */
  secretServiceAddress?: () => string;
}

/**
 * config-manager as a hosted service: database, outbox relay, read caches (Redis-backed when REDIS_URL is set),
 * gRPC ConfigService and LlmConfigService, ops HTTP (health, metrics).
 */
export class ConfigManagerHost extends GrpcServiceHost {
  constructor(env: ConfigManagerEnv, infra: ConfigManagerInfrastructure) {
    super(
      {
        name: CONFIG_MANAGER,
        dependsOn: ['event-bus'],
        database: {
          schema: CONFIG_MANAGER_SCHEMA,
          url: env.DATABASE_URL,
          dataRoot: env.DATA_DIR,
          entities: [ConfigEntryEntity],
          migrations: CONFIG_MANAGER_MIGRATIONS,
        },
        grpc: { host: env.CONFIG_MANAGER_HOST, port: env.CONFIG_MANAGER_GRPC_PORT, errorMapper: mapConfigExceptionToGrpc },
        opsPort: env.CONFIG_MANAGER_OPS_PORT,
        logger: infra.logger,
        registry: infra.registry,
      },
      async (database, logger) => {
        const relay = new OutboxRelay({
          dataSource: database.dataSource,
          schema: CONFIG_MANAGER_SCHEMA,
          bus: infra.eventBus(),
          logger,
          registry: infra.registry,
        });
        const outbox = new Outbox({ source: CONFIG_MANAGER, schema: CONFIG_MANAGER_SCHEMA, subjectRoot: env.NATS_SUBJECT_ROOT });
        // No offline queue: while Redis is unreachable a cache call fails at once and the read goes to the database.
        // Auto-pipelining: the cache commands of one event-loop turn go out in one syscall.
        const redis = env.REDIS_URL
          ? new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false, enableAutoPipelining: true })
          : undefined;
        redis?.on('error', (error: Error) => logger.debug({ err: error }, 'redis connection error'));
        const sharedCache =
          redis &&
          new RedisCacheLayer({
            redis,
            // The subject root already tells deployments sharing infrastructure apart (and parallel test runs).
            keyPrefix: `llmops:${env.NATS_SUBJECT_ROOT}:${CONFIG_MANAGER}:cache:`,
            registry: infra.registry,
            logger,
          });
        // Created on first use: in one process secret-service starts after config-manager.
        let secretClient: GrpcClient<typeof SecretService> | undefined;
        const secretReferences = new SecretReferenceResolver(
          () =>
            (secretClient ??= createGrpcClient(SecretService, {
              address: infra.secretServiceAddress?.() ?? env.SECRET_SERVICE_URL,
              logger,
              registry: infra.registry,
            })),
        );
        const closeCache = (): void => {
          sharedCache?.close();
          redis?.disconnect();
          secretClient?.close();
        };
        let context: INestApplicationContext;
        let llmContext: INestApplicationContext;
        let announcements: Subscription;
        try {
          context = await NestFactory.createApplicationContext(
            ConfigsModule.register({
              database,
              outbox,
              options: {
                registry: infra.registry,
                sharedCache,
                secretReferences,
                logger,
                // Other replicas' watches wake when the event arrives: publish it now, not at the relay's next poll.
                onCommitted: () => relay.nudge(),
              },
            }),
            { logger: false },
          );
          const configs = context.get(ConfigsService);
          llmContext = await NestFactory.createApplicationContext(LlmConfigModule.register({ configs, database, outbox }), { logger: false });
          // Another replica's commit wakes the watches here once its event is relayed, not at their next poll.
          announcements = listenForConfigCommits(infra.eventBus(), env.NATS_SUBJECT_ROOT, () => configs.wakeWatchers());
        } catch (error) {
          closeCache();
          throw error;
        }
        relay.start();
        return {
          register: (server) => {
            const denials = new DenialRecorder(database, outbox, logger);
            server.addService(ConfigService, recordingDenials(ConfigService, context.get(ConfigsGrpcController).implementation(), denials));
            server.addService(
              LlmConfigService,
              recordingDenials(LlmConfigService, llmContext.get(LlmConfigGrpcController).implementation(), denials),
            );
          },
          stop: async () => {
            await announcements.close();
            context.get(ConfigsService).changeFeed.close();
            await relay.stop();
            await llmContext.close();
            await context.close();
            closeCache();
          },
        };
      },
    );
  }
}
