import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { AuditService, ConfigEventType, ConfigService, LlmConfigService, SecretService } from '@llmops/contracts';
import {
  InMemorySlidingWindowRateLimiter,
  RedisSlidingWindowRateLimiter,
  TokenService,
  type RateLimiter,
} from '@llmops/platform-auth';
import { createGrpcClient } from '@llmops/platform-grpc';
import {
  getOrCreateCounter,
  getOrCreateHistogram,
  HealthRegistry,
  requestContext,
  type Logger,
} from '@llmops/platform-observability';
import { Outbox, OutboxRelay, type EventBus } from '@llmops/platform-messaging';
import { openDatabase, type Database } from '@llmops/platform-persistence';
import type { HealthReport, HostedService } from '@llmops/platform-runtime';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { ApiGatewayModule } from './api-gateway.module.js';
import type { ApiGatewayEnv } from './api-gateway.env.js';
import { AuthService } from './auth/auth.service.js';
import { loadSigningKey } from './auth/signing-key.js';
import { assertSaneInput } from './errors/hostile-input.js';
import { toGatewayException } from './errors/error-envelope.filter.js';
import { httpStatusOf } from './errors/gateway.exception.js';
import { SecurityEvents } from './auth/security-events.js';
import { CreateIdentity1763800000000, GATEWAY_SCHEMA } from './migrations/1763800000000-CreateIdentity.js';
import { AddOutbox1763800000001 } from './migrations/1763800000001-AddOutbox.js';
import { AddRoleBindings1764060000000 } from './migrations/1764060000000-AddRoleBindings.js';
import { AddUserTenant1764300000000 } from './migrations/1764300000000-AddUserTenant.js';
import { grpcReachable } from './upstreams/grpc-reachability.js';
import { ConfigReadCache } from './config-cache/config-read-cache.js';

export const API_GATEWAY = 'api-gateway';
export const DEFAULT_ADMIN_EMAIL = 'admin@llmops.local';
const REQUEST_ID = /^[\w.-]{1,128}$/;
/** How long a stop waits for in-flight requests before cutting the connections still open. */
const CLOSE_GRACE_MS = 3_000;

export interface ApiGatewayInfrastructure {
  logger: Logger;
  registry: Registry;
  /** Carries the gateway's security events to the audit log. */
  eventBus: () => EventBus;
  /** Where a generated admin password is shown once (the launcher's terminal). */
  announce?: (message: string) => void;
  /** In one process the services may bind ephemeral ports; this tells the gateway where they ended up. */
  upstreams?: () => { configManager: string; auditService: string; secretService: string };
}

interface Running {
  app: NestFastifyApplication;
  database: Database;
  relay: OutboxRelay;
  redis?: Redis;
  closeClients: () => Promise<void>;
}

/** The REST edge: authentication, rate limiting, RBAC and the error envelope in front of the gRPC services. */
export class ApiGatewayHost implements HostedService {
  readonly name = API_GATEWAY;
  /** Running alone it waits for nothing; the all-in-one launcher starts it after the services it calls. */
  readonly dependsOn: readonly string[];
  private running?: Running;
  port?: number;
  openApi?: OpenAPIObject;

  constructor(
    private readonly env: ApiGatewayEnv,
    private readonly infra: ApiGatewayInfrastructure,
    dependsOn: readonly string[] = [],
  ) {
    this.dependsOn = dependsOn;
  }

  async start(): Promise<void> {
    const env = this.env;
    const logger = this.infra.logger.child({ component: API_GATEWAY });
    const dataDir = join(env.DATA_DIR, API_GATEWAY);
    const database = await openDatabase({
      service: API_GATEWAY,
      schema: GATEWAY_SCHEMA,
      url: env.DATABASE_URL,
      dataDir: join(dataDir, 'pg'),
      entities: [],
      migrations: [CreateIdentity1763800000000, AddOutbox1763800000001, AddRoleBindings1764060000000, AddUserTenant1764300000000],
      logger,
    });
    // What has been started so far, undone in reverse if a later step fails.
    const undo: Array<() => unknown> = [() => database.close()];
    try {
      const relay = new OutboxRelay({
        dataSource: database.dataSource,
        schema: GATEWAY_SCHEMA,
        bus: this.infra.eventBus(),
        logger,
        registry: this.infra.registry,
      });
      relay.start();
      undo.push(() => relay.stop());
      const securityEvents = new SecurityEvents(
        new Outbox({ source: API_GATEWAY, schema: GATEWAY_SCHEMA, subjectRoot: env.NATS_SUBJECT_ROOT }),
        database.dataSource.manager,
      );
      const key = await loadSigningKey({ privateKeyPem: env.JWT_PRIVATE_KEY, publicKeyPem: env.JWT_PUBLIC_KEY, dataDir });
      const tokens = await TokenService.create({
        privateKeyPem: key.privateKeyPem,
        publicKeyPem: key.publicKeyPem,
        issuer: env.JWT_ISSUER,
        audience: env.JWT_AUDIENCE,
        accessTtlSeconds: env.JWT_ACCESS_TTL_SECONDS,
        refreshTtlSeconds: env.JWT_REFRESH_TTL_SECONDS,
      });
      // Auto-pipelining writes the commands of one event-loop turn (a rate-limit check per request) in one syscall.
      const redis = env.REDIS_URL
        ? new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false, enableAutoPipelining: true })
        : undefined;
      redis?.on('error', (error: Error) => logger.debug({ err: error }, 'redis connection error'));
      undo.push(() => redis?.disconnect());
      const limiters = {
        principal: this.rateLimiter(redis, 'principal', env.RATE_LIMIT_PER_MINUTE),
        anonymous: this.rateLimiter(redis, 'anonymous', env.RATE_LIMIT_ANONYMOUS_PER_MINUTE),
      };
      const upstreams = this.infra.upstreams?.() ?? {
        configManager: env.CONFIG_MANAGER_URL,
        auditService: env.AUDIT_SERVICE_URL,
        secretService: env.SECRET_SERVICE_URL,
      };
      const configClient = createGrpcClient(ConfigService, { address: upstreams.configManager, logger, registry: this.infra.registry });
      const llmConfigClient = createGrpcClient(LlmConfigService, { address: upstreams.configManager, logger, registry: this.infra.registry });
      const auditClient = createGrpcClient(AuditService, { address: upstreams.auditService, logger, registry: this.infra.registry });
      const secretClient = createGrpcClient(SecretService, { address: upstreams.secretService, logger, registry: this.infra.registry });
      undo.push(() => {
        configClient.close();
        llmConfigClient.close();
        auditClient.close();
        secretClient.close();
      });
      const configReadCache = new ConfigReadCache(configClient, logger, this.infra.registry, { ttlMs: env.GATEWAY_CONFIG_CACHE_TTL_MS });
      configReadCache.start();
      undo.push(() => configReadCache.stop());
      // Namespace settings (an environment chain) change how keys resolve but come through no watch: config-manager's
      // settings event drops the edge cache on every replica, and so does a bus reconnect, since events published
      // while this replica was away are not replayed to it.
      const settingsChanges = this.infra
        .eventBus()
        .listen(`${env.NATS_SUBJECT_ROOT}.config-manager.${ConfigEventType.SettingsChanged}`, () => configReadCache.forgetAll(), {
          onResume: () => configReadCache.forgetAll(),
        });
      undo.push(() => settingsChanges.close());

      const health = new HealthRegistry();
      health.add('database', () => database.ping());
      health.add('config-manager', () => grpcReachable(upstreams.configManager, 1_500));
      health.add('audit-service', () => grpcReachable(upstreams.auditService, 1_500));
      health.add('secret-service', () => grpcReachable(upstreams.secretService, 1_500));
      if (redis) health.add('redis', async () => void (await redis.ping()), { critical: false });

      const adapter = new FastifyAdapter({
        bodyLimit: env.GATEWAY_BODY_LIMIT_BYTES,
        trustProxy: env.TRUST_PROXY,
        genReqId: (request: IncomingMessage) => {
          const header = request.headers['x-request-id'];
          return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
        },
      });
      const app = await NestFactory.create<NestFastifyApplication>(
        ApiGatewayModule.register({
          database,
          tokens,
          logger,
          registry: this.infra.registry,
          health,
          limiters,
          configClient,
          llmConfigClient,
          auditClient,
          secretClient,
          configReadCache,
          apiKeyPepper: env.API_KEY_PEPPER,
          securityEvents,
        }),
        adapter,
        { logger: false },
      );
      undo.push(() => app.close());
      const fastify = app.getHttpAdapter().getInstance();
      const requests = getOrCreateCounter(this.infra.registry, {
        name: 'http_server_requests_total',
        help: 'HTTP requests answered by the gateway',
        labelNames: ['method', 'route', 'status'],
      });
      const duration = getOrCreateHistogram(this.infra.registry, {
        name: 'http_server_request_duration_seconds',
        help: 'HTTP request duration at the gateway',
        labelNames: ['method', 'route'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      });
      fastify.addHook('onResponse', async (request, reply) => {
        // The route pattern, not the URL, keeps the label set bounded.
        const route = request.routeOptions.url ?? 'unmatched';
        requests.inc({ method: request.method, route, status: String(reply.statusCode) });
        duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
      });
      // Every log line written while serving a request carries its request id.
      fastify.addHook('onRequest', (request, _reply, done) => requestContext.run({ requestId: String(request.id) }, done));
      // Once the body is parsed, before any route: NUL characters and absurd nesting are a 400 here, not a 500 later.
      fastify.addHook('preValidation', async (request) => assertSaneInput(request));
      fastify.addHook('onSend', async (request, reply) => {
        reply.header('x-request-id', request.id);
      });
      // Errors raised by Fastify itself (body parsing, size limit, content type) never reach Nest's filters.
      fastify.setErrorHandler((error, request, reply) => {
        const exception = toGatewayException(error);
        void reply
          .status(httpStatusOf(exception.code))
          .headers(exception.headers)
          .send({ error: { code: exception.code, message: exception.message, request_id: String(request.id) } });
      });
      this.openApi = SwaggerModule.createDocument(
        app,
        new DocumentBuilder()
          .setTitle('LLMOps platform API')
          .setDescription('Configuration, secrets and audit for LLM applications in production.')
          .setVersion('1.0.0')
          .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
          .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'apiKey')
          .build(),
      );
      // Served directly: SwaggerModule.setup's UI assets never finish registering on Fastify here, and the document is
      // what clients and generators need.
      const openApi = this.openApi;
      fastify.get('/api/docs-json', async (_request, reply) => reply.header('cache-control', 'no-cache').send(openApi));

      const auth = app.get(AuthService);
      const admin = await auth.ensureBootstrapAdmin(env.ADMIN_EMAIL ?? DEFAULT_ADMIN_EMAIL, env.ADMIN_PASSWORD);
      if (admin.generatedPassword) {
        (this.infra.announce ?? ((m: string) => process.stdout.write(`${m}\n`)))(
          `Bootstrap administrator created: ${env.ADMIN_EMAIL ?? DEFAULT_ADMIN_EMAIL} / ${admin.generatedPassword}\n` +
            'This password is shown once; set ADMIN_EMAIL and ADMIN_PASSWORD to choose your own.',
        );
      }
      await app.listen(env.GATEWAY_PORT, env.GATEWAY_HOST);
      const address = fastify.server.address();
      this.port = typeof address === 'object' && address ? address.port : env.GATEWAY_PORT;
      this.running = {
        app,
        database,
        relay,
        redis,
        closeClients: async () => {
          await settingsChanges.close();
          await configReadCache.stop();
          configClient.close();
          llmConfigClient.close();
          auditClient.close();
          secretClient.close();
        },
      };
      logger.info({ port: this.port, embedded: database.embedded }, 'api-gateway listening');
    } catch (error) {
      for (const step of undo.reverse()) await Promise.resolve().then(step).catch(() => undefined);
      throw error;
    }
  }

  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    // In-flight requests get a grace period; then connections still open (a watch whose client went quiet, a
    // client that never closes its keep-alive socket) are cut rather than holding the stop until the manager gives up.
    const server = running.app.getHttpServer() as HttpServer;
    const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
    try {
      await running.app.close();
    } finally {
      clearTimeout(force);
    }
    await running.relay.stop();
    await running.closeClients();
    running.redis?.disconnect();
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

  private rateLimiter(redis: Redis | undefined, name: string, perMinute: number): RateLimiter {
    const options = { limit: perMinute, windowMs: 60_000 };
    return redis
      ? new RedisSlidingWindowRateLimiter({ redis, keyPrefix: `llmops:ratelimit:${name}:`, ...options })
      : new InMemorySlidingWindowRateLimiter(options);
  }
}
