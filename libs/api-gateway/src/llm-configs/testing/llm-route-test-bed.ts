import { Module, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Principal } from '@llmops/platform-auth';
import { createLogger } from '@llmops/platform-observability';
import { ErrorEnvelopeFilter } from '../../errors/error-envelope.filter.js';
import { listenOnLoopback, recordingGuard, sendJson, type DemandedAccess, type HttpAnswer } from '../../testing/route-testing.js';
import { LLM_CONFIG_CLIENT, type LlmConfigClient } from '../../upstreams/upstream-clients.js';

/** LLM routes on a loopback port with config-manager stood in for: its calls recorded, its answers or failure chosen. */
export interface LlmRouteTestBed {
  app: NestFastifyApplication;
  /** Every LlmConfigService call the routes made, in order. */
  calls: Array<{ method: string; request: unknown }>;
  /** The permission and environment each route demanded. */
  demanded: DemandedAccess[];
  /** Makes every upstream call fail with `error` until reset(). */
  failWith(error: Error): void;
  reset(): void;
  send(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<HttpAnswer>;
  close(): Promise<void>;
}

const GLOBAL_ADMIN: Principal = { id: 'u-admin', type: 'user', roles: ['global-admin'] };

/** `answers` are the stand-in's methods by LlmConfigService name: each gets the request and returns the response. */
export async function startLlmRouteTestBed(
  controllers: Type[],
  answers: Record<string, (request: never) => unknown>,
  principal: Principal = GLOBAL_ADMIN,
): Promise<LlmRouteTestBed> {
  const calls: LlmRouteTestBed['calls'] = [];
  const demanded: DemandedAccess[] = [];
  let failure: Error | undefined;
  const client = Object.fromEntries(
    Object.entries(answers).map(([method, answer]) => [
      method,
      async (request: never) => {
        calls.push({ method, request });
        if (failure) throw failure;
        return answer(request);
      },
    ]),
  );
  @Module({})
  class LlmRoutesModule {}
  const { app, baseUrl } = await listenOnLoopback({
    module: LlmRoutesModule,
    controllers,
    providers: [
      { provide: LLM_CONFIG_CLIENT, useValue: client as unknown as LlmConfigClient },
      { provide: APP_GUARD, useValue: recordingGuard(principal, demanded) },
      { provide: APP_FILTER, useValue: new ErrorEnvelopeFilter(createLogger({ service: 'test', version: 'test', level: 'silent' })) },
    ],
  });
  return {
    app,
    calls,
    demanded,
    failWith: (error) => (failure = error),
    reset: () => {
      calls.length = 0;
      demanded.length = 0;
      failure = undefined;
    },
    send: (method, url, body, headers = {}) => sendJson(baseUrl, method, url, body, headers),
    close: () => app.close(),
  };
}
