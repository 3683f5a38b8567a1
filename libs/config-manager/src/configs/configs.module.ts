import { Module, type DynamicModule } from '@nestjs/common';
import type { Outbox } from '@llmops/platform-messaging';
import type { Database } from '@llmops/platform-persistence';
import { NamespaceSettingsService } from '../namespace-settings/namespace-settings.service.js';
import { ConfigsGrpcController } from './configs.grpc-controller.js';
import { ConfigsService } from './configs.service.js';

export const CONFIG_DATABASE = Symbol('CONFIG_DATABASE');
export const CONFIG_OUTBOX = Symbol('CONFIG_OUTBOX');

@Module({})
export class ConfigsModule {
  static register(dependencies: { database: Database; outbox: Outbox }): DynamicModule {
    return {
      module: ConfigsModule,
      providers: [
        { provide: CONFIG_DATABASE, useValue: dependencies.database },
        { provide: CONFIG_OUTBOX, useValue: dependencies.outbox },
        {
          provide: NamespaceSettingsService,
          useFactory: (database: Database, outbox: Outbox) => new NamespaceSettingsService(database, outbox),
          inject: [CONFIG_DATABASE, CONFIG_OUTBOX],
        },
        {
          provide: ConfigsService,
          useFactory: (database: Database, outbox: Outbox, settings: NamespaceSettingsService) => new ConfigsService(database, outbox, settings),
          inject: [CONFIG_DATABASE, CONFIG_OUTBOX, NamespaceSettingsService],
        },
        {
          provide: ConfigsGrpcController,
          useFactory: (configs: ConfigsService, settings: NamespaceSettingsService) => new ConfigsGrpcController(configs, settings),
          inject: [ConfigsService, NamespaceSettingsService],
        },
      ],
      exports: [ConfigsService, ConfigsGrpcController],
    };
  }
}
