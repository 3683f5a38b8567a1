import { join } from 'node:path';
import { GrpcServer, type GrpcServerOptions } from '@llmops/platform-grpc';
import { HealthRegistry, startOpsServer, type Logger } from '@llmops/platform-observability';
import { openDatabase, type Database, type DatabaseOptions } from '@llmops/platform-persistence';
import type { HealthReport, HostedService } from '@llmops/platform-runtime';
import type { Registry } from 'prom-client';

export interface GrpcServiceHostOptions {
  name: string;
  dependsOn: readonly string[];
  /** The service's own schema and migrations; without a URL, PGlite lives in `<dataRoot>/<name>/pg`. */
  database: Pick<DatabaseOptions, 'schema' | 'url' | 'entities' | 'migrations'> & { dataRoot: string };
  grpc: Pick<GrpcServerOptions, 'host' | 'port' | 'errorMapper'>;
  /** Port of /health/live, /health/ready and /metrics. */
  opsPort: number;
  logger: Logger;
  registry: Registry;
}

/** What a service adds on top of its database: its gRPC services and whatever it must stop (relays, consumers). */
export interface ServiceComponents {
  register(server: GrpcServer): void;
  stop(): Promise<void>;
}

interface Running {
  database: Database;
  components: ServiceComponents;
  server: GrpcServer;
  ops: { port: number; close(): Promise<void> };
}

/**
 * The shape every gRPC service shares: its database (migrated), its components, a gRPC server with health and
 * reflection, and an ops HTTP server; started in that order, stopped in reverse.
 */
export class GrpcServiceHost implements HostedService {
  readonly name: string;
  readonly dependsOn: readonly string[];
  private running?: Running;
  grpcPort?: number;
  opsPort?: number;

  constructor(
    private readonly options: GrpcServiceHostOptions,
    private readonly compose: (database: Database, logger: Logger) => Promise<ServiceComponents>,
  ) {
    this.name = options.name;
    this.dependsOn = options.dependsOn;
  }

  async start(): Promise<void> {
    const { name, registry } = this.options;
    const logger = this.options.logger.child({ component: name });
    const database = await openDatabase({
      service: name,
      schema: this.options.database.schema,
      url: this.options.database.url,
      dataDir: join(this.options.database.dataRoot, name, 'pg'),
      entities: this.options.database.entities,
      migrations: this.options.database.migrations,
      logger,
    });
    let components: ServiceComponents | undefined;
    let server: GrpcServer | undefined;
    try {
      components = await this.compose(database, logger);
      server = new GrpcServer({ ...this.options.grpc, logger, registry });
      components.register(server);
      this.grpcPort = await server.start();
      const health = new HealthRegistry();
      health.add('database', () => database.ping());
      const ops = await startOpsServer({ host: this.options.grpc.host, port: this.options.opsPort, health, registry, logger });
      this.opsPort = ops.port;
      this.running = { database, components, server, ops };
      logger.info({ grpcPort: this.grpcPort, opsPort: ops.port, embedded: database.embedded }, `${name} started`);
    } catch (error) {
      await server?.stop(0).catch(() => undefined);
      await components?.stop().catch(() => undefined);
      await database.close().catch(() => undefined);
      throw error;
    }
  }

  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    await running.server.stop(5_000);
    await running.ops.close();
    await running.components.stop();
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
