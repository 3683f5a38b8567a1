import { Module, type DynamicModule } from '@nestjs/common';
import type { Outbox } from '@llmops/platform-messaging';
import type { Logger } from '@llmops/platform-observability';
import type { Database } from '@llmops/platform-persistence';
import type { Registry } from 'prom-client';
import { EnvelopeCipher } from '../envelope/index.js';
import { EncryptionKeys, type ManagedKeyProvider } from '../key-management/encryption-keys.js';
import { SecretRotation } from '../rotation/secret-rotation.js';
import { SecretRotators, type SecretRotator } from '../rotation/secret-rotator.js';
import { SecretAccess } from './secret-access.js';
import { SecretsGrpcController } from './secrets.grpc-controller.js';
import { SecretsService } from './secrets.service.js';

export interface SecretsDependencies {
  database: Database;
  outbox: Outbox;
  keyProvider: ManagedKeyProvider;
  rotators: readonly SecretRotator[];
  logger: Logger;
  registry: Registry;
  rewrapBatchSize?: number;
}

const DEPENDENCIES = Symbol('SECRETS_DEPENDENCIES');

@Module({})
export class SecretsModule {
  static register(dependencies: SecretsDependencies): DynamicModule {
    return {
      module: SecretsModule,
      providers: [
        { provide: DEPENDENCIES, useValue: dependencies },
        { provide: EnvelopeCipher, useFactory: (deps: SecretsDependencies) => new EnvelopeCipher(deps.keyProvider), inject: [DEPENDENCIES] },
        {
          provide: SecretAccess,
          useFactory: (deps: SecretsDependencies) => new SecretAccess(deps.database, deps.outbox, deps.logger),
          inject: [DEPENDENCIES],
        },
        {
          provide: SecretsService,
          useFactory: (deps: SecretsDependencies, cipher: EnvelopeCipher, access: SecretAccess) =>
            new SecretsService(deps.database, deps.outbox, cipher, access),
          inject: [DEPENDENCIES, EnvelopeCipher, SecretAccess],
        },
        {
          provide: SecretRotation,
          useFactory: (deps: SecretsDependencies, secrets: SecretsService, access: SecretAccess) =>
            new SecretRotation(deps.database, deps.outbox, secrets, new SecretRotators(deps.rotators), access, deps.logger),
          inject: [DEPENDENCIES, SecretsService, SecretAccess],
        },
        {
          provide: EncryptionKeys,
          useFactory: (deps: SecretsDependencies, cipher: EnvelopeCipher) =>
            new EncryptionKeys(deps.database, deps.outbox, deps.keyProvider, cipher, deps.logger, deps.registry, deps.rewrapBatchSize),
          inject: [DEPENDENCIES, EnvelopeCipher],
        },
        {
          provide: SecretsGrpcController,
          useFactory: (secrets: SecretsService, rotation: SecretRotation, keys: EncryptionKeys) => new SecretsGrpcController(secrets, rotation, keys),
          inject: [SecretsService, SecretRotation, EncryptionKeys],
        },
      ],
      exports: [SecretsService, SecretRotation, EncryptionKeys, SecretsGrpcController],
    };
  }
}
