import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, createMetricsRegistry } from '@llmops/platform-observability';
import type { DestinationStream } from 'pino';
import type { ApiGatewayHost } from '@llmops/api-gateway';
import type { ConfigManagerHost } from '@llmops/config-manager';
import { ServiceManager } from '@llmops/platform-runtime';
import { composeApp } from '@llmops/platform-service-host';
import { loadPlatformEnv, platformApp } from '../platform-services.js';

export const ADMIN_EMAIL = 'admin@e2e.test';
/** Starting on embedded defaults initialises a PGlite cluster per service: allow for it in a loaded test run. */
export const EMBEDDED_START_TIMEOUT_MS = 240_000;
export const ADMIN_PASSWORD = 'correct-horse-battery-staple';

export interface RunningPlatform {
  baseUrl: string;
  gateway: ApiGatewayHost;
  configManager: ConfigManagerHost;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Boots the slice exactly as `apps/platform` does (same env loading, same service graph, same manager), on
 * ephemeral ports, with `overrides` choosing real servers or embedded defaults.
 */
export async function startPlatform(
  overrides: Record<string, string | undefined>,
  options: { logDestination?: DestinationStream } = {},
): Promise<RunningPlatform> {
  const dataDir = await mkdtemp(join(tmpdir(), 'llmops-e2e-'));
  const env = loadPlatformEnv({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'error',
    DATA_DIR: dataDir,
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: '0',
    CONFIG_MANAGER_GRPC_PORT: '0',
    CONFIG_MANAGER_OPS_PORT: '0',
    AUDIT_SERVICE_GRPC_PORT: '0',
    AUDIT_SERVICE_OPS_PORT: '0',
    SECRET_SERVICE_GRPC_PORT: '0',
    SECRET_SERVICE_OPS_PORT: '0',
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ...overrides,
  });
  const logger = createLogger({
    service: 'platform-e2e',
    version: 'test',
    level: env.gateway.LOG_LEVEL,
    pretty: false,
    destination: options.logDestination,
  });
  const registry = createMetricsRegistry({ service: 'platform-e2e' });
  const services = composeApp(platformApp, env, logger, registry);
  const manager = new ServiceManager({ logger, registry });
  services.forEach((service) => manager.register(service));
  await manager.startAll();
  const gateway = services.find((service) => service.name === 'api-gateway') as ApiGatewayHost;
  return {
    baseUrl: `http://127.0.0.1:${gateway.port}`,
    gateway,
    configManager: services.find((service) => service.name === 'config-manager') as ConfigManagerHost,
    dataDir,
    stop: async () => {
      await manager.stopAll();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field in tests
export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A small HTTP client for the gateway that keeps raw access to status, headers and body. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field in tests
export async function call<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; apiKey?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.apiKey) headers['x-api-key'] = options.apiKey;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (e.g. /metrics); keep the text.
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}

export async function login(baseUrl: string, email = ADMIN_EMAIL, password = ADMIN_PASSWORD): Promise<string> {
  const response = await call<{ access_token: string }>(baseUrl, 'POST', '/api/v1/auth/login', { body: { email, password } });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.access_token;
}
