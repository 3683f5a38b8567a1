import { KMSClient } from '@aws-sdk/client-kms';
import { NestFactory } from '@nestjs/core';
import { SecretService } from '@llmops/contracts';
import { Outbox, OutboxRelay, type EventBus } from '@llmops/platform-messaging';
import type { Logger } from '@llmops/platform-observability';
import { GrpcServiceHost } from '@llmops/platform-service-host';
import type { Registry } from 'prom-client';
import { AwsKmsKeyProvider, LocalKeyring } from './envelope/index.js';
import { EncryptionKeys, type ManagedKeyProvider } from './key-management/encryption-keys.js';
import { CreateSecrets1764000000000, SECRET_SERVICE_SCHEMA } from './migrations/1764000000000-CreateSecrets.js';
import { RotationScheduler } from './rotation/rotation-scheduler.js';
import { defaultRotators } from './rotation/rotators/index.js';
import { SecretRotation } from './rotation/secret-rotation.js';
import type { SecretServiceEnv } from './secret-service.env.js';
import { mapSecretExceptionToGrpc } from './secrets/exceptions/secret-exception.grpc-mapper.js';
import { SecretsGrpcController } from './secrets/secrets.grpc-controller.js';
import { SecretsModule } from './secrets/secrets.module.js';

export const SECRET_SERVICE = 'secret-service';

export const SECRET_SERVICE_MIGRATIONS = [CreateSecrets1764000000000];

export interface SecretServiceInfrastructure {
  logger: Logger;
  registry: Registry;
  /** The bus is its own hosted service, started first; it is read at start so a restarted bus is picked up. */
  eventBus: () => EventBus;
}

/**
 * secret-service as a hosted service: database, key provider, outbox relay, rotation scheduler, data-key rewrap
 * (resumed at start if a key rotation was interrupted), gRPC SecretService, ops HTTP.
 */
export class SecretServiceHost extends GrpcServiceHost {
  constructor(env: SecretServiceEnv, infra: SecretServiceInfrastructure) {
    super(
      {
        name: SECRET_SERVICE,
        dependsOn: ['event-bus'],
        database: { schema: SECRET_SERVICE_SCHEMA, url: env.DATABASE_URL, dataRoot: env.DATA_DIR, entities: [], migrations: SECRET_SERVICE_MIGRATIONS },
        grpc: { host: env.SECRET_SERVICE_HOST, port: env.SECRET_SERVICE_GRPC_PORT, errorMapper: mapSecretExceptionToGrpc },
        opsPort: env.SECRET_SERVICE_OPS_PORT,
        logger: infra.logger,
        registry: infra.registry,
      },
      async (database, logger) => {
        const keyProvider = await openKeyProvider(env);
        if (keyProvider.name === 'local' && !env.SECRET_KEYRING) logger.warn({ dataDir: env.DATA_DIR }, 'secret keyring kept in DATA_DIR (development only)');
        const relay = new OutboxRelay({ dataSource: database.dataSource, schema: SECRET_SERVICE_SCHEMA, bus: infra.eventBus(), logger, registry: infra.registry });
        const outbox = new Outbox({ source: SECRET_SERVICE, schema: SECRET_SERVICE_SCHEMA, subjectRoot: env.NATS_SUBJECT_ROOT });
        const context = await NestFactory.createApplicationContext(
          SecretsModule.register({
            database,
            outbox,
            keyProvider,
            rotators: defaultRotators(),
            logger,
            registry: infra.registry,
            rewrapBatchSize: env.SECRET_REWRAP_BATCH_SIZE,
          }),
          { logger: false },
        );
        relay.start();
        const keys = context.get(EncryptionKeys);
        keys.startRewrap();
        void keys.reportUnknownKeyVersions().catch((error: unknown) => logger.warn({ err: error }, 'could not check the key versions in use'));
        // Also on a timer: during a rolling key rotation, replicas not yet pinned to the new version keep wrapping with
        // the old one after this replica's start-up rewrap.
        const rewrapTimer = setInterval(() => keys.startRewrap(), env.SECRET_ROTATION_CHECK_SECONDS * 1000);
        rewrapTimer.unref();
        const scheduler = new RotationScheduler(context.get(SecretRotation), logger, env.SECRET_ROTATION_CHECK_SECONDS * 1000);
        scheduler.start();
        return {
          register: (server) => server.addService(SecretService, context.get(SecretsGrpcController).implementation()),
          stop: async () => {
            clearInterval(rewrapTimer);
            await scheduler.stop();
            await keys.settled();
            await relay.stop();
            await context.close();
          },
        };
      },
    );
  }
}

async function openKeyProvider(env: SecretServiceEnv): Promise<ManagedKeyProvider> {
  if (env.SECRET_KMS_PROVIDER === 'aws-kms') {
    return new AwsKmsKeyProvider({
      client: new KMSClient({ region: env.SECRET_AWS_REGION }),
      keys: AwsKmsKeyProvider.keysFrom(env.SECRET_AWS_KMS_KEYS!),
      minDecryptionVersion: env.SECRET_KEYRING_MIN_DECRYPTION_VERSION,
      currentVersion: env.SECRET_KEYRING_CURRENT_VERSION,
    });
  }
  return LocalKeyring.open({
    dataDir: env.DATA_DIR,
    keyring: env.SECRET_KEYRING,
    minDecryptionVersion: env.SECRET_KEYRING_MIN_DECRYPTION_VERSION,
    currentVersion: env.SECRET_KEYRING_CURRENT_VERSION,
  });
}
