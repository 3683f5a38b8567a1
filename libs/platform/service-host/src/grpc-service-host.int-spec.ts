import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client, credentials } from '@grpc/grpc-js';
import { SecretService } from '@llmops/contracts';
import { GrpcStatusError, type ServiceImplementation } from '@llmops/platform-grpc';
import { createLogger, createMetricsRegistry } from '@llmops/platform-observability';
import { sqlMigration } from '@llmops/platform-persistence';
import { createTestDatabase, type TestDatabase } from '@llmops/platform-testing';
import { status } from '@grpc/grpc-js';
import { GrpcServiceHost } from './grpc-service-host.js';

const CreateThings1763800000000 = sqlMigration(
  'CreateThings1763800000000',
  ['CREATE TABLE host_test.things (id int PRIMARY KEY)'],
  ['DROP TABLE host_test.things'],
);

const notHere = async (): Promise<never> => {
  throw new GrpcStatusError(status.UNIMPLEMENTED, 'not here');
};

describe(GrpcServiceHost.name, () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase({ prefix: 'service_host' });
  });

  afterAll(async () => {
    await database?.drop();
  });

  function host(compose: ConstructorParameters<typeof GrpcServiceHost>[1]): GrpcServiceHost {
    return new GrpcServiceHost(
      {
        name: 'host-test',
        dependsOn: [],
        database: { schema: 'host_test', url: database.url, dataRoot: '/nonexistent', entities: [], migrations: [CreateThings1763800000000] },
        grpc: { host: '127.0.0.1', port: 0 },
        opsPort: 0,
        logger: createLogger({ service: 'host-test', version: 'test', level: 'silent' }),
        registry: createMetricsRegistry({ service: 'host-test', collectDefaults: false }),
      },
      compose,
    );
  }

  it('migrates, serves gRPC and ops endpoints, reports health, and stops its components', async () => {
    const journal: string[] = [];
    const service = host(async (db) => {
      await db.dataSource.query('INSERT INTO things VALUES (1)');
      journal.push('composed');
      return {
        register: (server) =>
          server.addService(
            SecretService,
            Object.fromEntries(SecretService.methods.map((method) => [method.localName, notHere])) as unknown as ServiceImplementation<typeof SecretService>,
          ),
        stop: async () => void journal.push('components stopped'),
      };
    });
    await service.start();
    try {
      expect(service.grpcPort).toBeGreaterThan(0);
      const ready = await fetch(`http://127.0.0.1:${service.opsPort}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await service.health()).toEqual({ healthy: true });
      const client = new Client(`127.0.0.1:${service.grpcPort}`, credentials.createInsecure());
      await new Promise<void>((resolve, reject) =>
        client.waitForReady(Date.now() + 5_000, (error) => (error ? reject(error) : resolve())),
      );
      client.close();
    } finally {
      await service.stop();
    }
    expect(journal).toEqual(['composed', 'components stopped']);
    expect(await service.health()).toEqual({ healthy: false, detail: 'not started' });
  });

  it('releases the database when composing fails, and rejects with the cause', async () => {
    const service = host(async () => {
      throw new Error('bad wiring');
    });
    await expect(service.start()).rejects.toThrow('bad wiring');
    expect(await service.health()).toMatchObject({ healthy: false });
  });
});
