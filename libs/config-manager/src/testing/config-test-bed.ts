import { Outbox } from '@llmops/platform-messaging';
import { openDatabase, type Database } from '@llmops/platform-persistence';
import { createTestDatabase, type TestDatabase } from '@llmops/platform-testing';
import { GrpcServer } from '@llmops/platform-grpc';
import { Registry } from 'prom-client';
import { CONFIG_MANAGER_MIGRATIONS } from '../config-manager.host.js';
import { ConfigEntryEntity } from '../configs/config-entry.entity.js';
import type { ConfigServiceOptions } from '../configs/config-service-options.js';
import { ConfigsService } from '../configs/configs.service.js';
import { mapConfigExceptionToGrpc } from '../configs/exceptions/config-exception.grpc-mapper.js';
import { ConfigException } from '../configs/exceptions/config.exception.js';
import { CONFIG_MANAGER_SCHEMA } from '../migrations/1763800000000-CreateConfigEntries.js';
import { NamespaceSettingsService } from '../namespace-settings/namespace-settings.service.js';

/** config-manager's services as the host wires them, on a migrated database of the suite's own. */
export interface ConfigTestBed {
  testDatabase: TestDatabase;
  database: Database;
  outbox: Outbox;
  options: ConfigServiceOptions;
  settings: NamespaceSettingsService;
  configs: ConfigsService;
  /** Serves `register`'s services over gRPC on a loopback port; stopped by close(). */
  serve(register: (server: GrpcServer) => void): Promise<string>;
  close(): Promise<void>;
}

export async function openConfigTestBed(prefix: string, options: Partial<ConfigServiceOptions> = {}): Promise<ConfigTestBed> {
  const testDatabase = await createTestDatabase({ prefix });
  const database = await openDatabase({
    service: 'config-manager',
    schema: CONFIG_MANAGER_SCHEMA,
    url: testDatabase.url,
    entities: [ConfigEntryEntity],
    migrations: CONFIG_MANAGER_MIGRATIONS,
  });
  const outbox = new Outbox({ source: 'config-manager', schema: CONFIG_MANAGER_SCHEMA });
  const serviceOptions: ConfigServiceOptions = { registry: new Registry(), ...options };
  const settings = new NamespaceSettingsService(database, outbox, serviceOptions);
  const configs = new ConfigsService(database, outbox, settings, serviceOptions);
  const servers: GrpcServer[] = [];
  return {
    testDatabase,
    database,
    outbox,
    options: serviceOptions,
    settings,
    configs,
    serve: async (register) => {
      const server = new GrpcServer({ host: '127.0.0.1', port: 0, errorMapper: mapConfigExceptionToGrpc, registry: new Registry() });
      register(server);
      servers.push(server);
      return `127.0.0.1:${await server.start()}`;
    },
    close: async () => {
      for (const server of servers) await server.stop(100);
      configs.changeFeed.close();
      await database.close();
      await testDatabase.drop();
    },
  };
}

/** The ConfigException `promise` fails with; anything else, or success, fails the test. */
export async function configFailure(promise: Promise<unknown>): Promise<ConfigException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConfigException) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}
