import { Module, type DynamicModule } from '@nestjs/common';
import type { Outbox } from '@llmops/platform-messaging';
import type { Database } from '@llmops/platform-persistence';
import { NamespaceSettingsService } from '../namespace-settings/namespace-settings.service.js';
import type { ConfigServiceOptions } from './config-service-options.js';
import { ConfigsGrpcController } from './configs.grpc-controller.js';
import { ConfigsService } from './configs.service.js';

export const CONFIG_DATABASE = Symbol('CONFIG_DATABASE');
export const CONFIG_OUTBOX = Symbol('CONFIG_OUTBOX');
export const CONFIG_SERVICE_OPTIONS = Symbol('CONFIG_SERVICE_OPTIONS');

@Module({})
export class ConfigsModule {
  static register(dependencies: { database: Database; outbox: Outbox; options: ConfigServiceOptions }): DynamicModule {
    return {
      module: ConfigsModule,
      providers: [
        { provide: CONFIG_DATABASE, useValue: dependencies.database },
        { provide: CONFIG_OUTBOX, useValue: dependencies.outbox },
        { provide: CONFIG_SERVICE_OPTIONS, useValue: dependencies.options },
        {
          provide: NamespaceSettingsService,
          useFactory: (database: Database, outbox: Outbox, options: ConfigServiceOptions) => new NamespaceSettingsService(database, outbox, options),
          inject: [CONFIG_DATABASE, CONFIG_OUTBOX, CONFIG_SERVICE_OPTIONS],
        },
        {
          provide: ConfigsService,
          useFactory: (database: Database, outbox: Outbox, settings: NamespaceSettingsService, options: ConfigServiceOptions) =>
            new ConfigsService(database, outbox, settings, options),
          inject: [CONFIG_DATABASE, CONFIG_OUTBOX, NamespaceSettingsService, CONFIG_SERVICE_OPTIONS],
        },
        {
          provide: ConfigsGrpcController,
          useFactory: (configs: ConfigsService, settings: NamespaceSettingsService, options: ConfigServiceOptions) =>
            new ConfigsGrpcController(configs, settings, options.secretReferences),
          inject: [ConfigsService, NamespaceSettingsService, CONFIG_SERVICE_OPTIONS],
        },
      ],
      exports: [ConfigsService, ConfigsGrpcController],
    };
  }
}
