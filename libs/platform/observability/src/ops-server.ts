import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { HealthRegistry } from './health-registry.js';
import type { Logger } from './logger.js';

export interface OpsServerOptions {
  /** 0 picks a free port; the chosen one is returned. */
  port: number;
  /** Defaults to all interfaces so the kubelet and Prometheus can reach it. */
  host?: string;
  health: HealthRegistry;
  registry: Registry;
  logger: Logger;
}

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Health and metrics endpoints for services without an HTTP API of their own (the gRPC-only ones):
 * GET /health/live, GET /health/ready (503 when a critical check fails), GET /metrics.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { health, registry, logger } = options;

  const routes: Record<string, (response: ServerResponse) => Promise<void>> = {
    '/health/live': async (response) => sendJson(response, 200, health.live()),
    '/health/ready': async (response) => {
      const report = await health.ready();
      sendJson(response, report.status === 'unavailable' ? 503 : 200, report);
    },
    '/metrics': async (response) => {
      const body = await registry.metrics();
      response.writeHead(200, { 'content-type': registry.contentType }).end(body);
    },
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'http://ops.local').pathname;
    const route = routes[path];
    if (!route) return sendJson(response, 404, { error: { code: 'NOT_FOUND', message: `no route for ${path}` } });
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      return sendJson(response, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${request.method} not allowed` } });
    }
    await route(response);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error, path: request.url }, 'ops endpoint failed');
      if (!response.headersSent) sendJson(response, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
      else response.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port }, 'ops server listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections (Prometheus scrapers) would otherwise hold close() open until they time out.
        server.closeAllConnections();
      })),
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}
