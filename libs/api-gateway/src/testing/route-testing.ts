import type { AddressInfo } from 'node:net';
import { expect } from '@jest/globals';
import type { CanActivate, DynamicModule, ExecutionContext, Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Principal } from '@llmops/platform-auth';
import { ACCESS_POLICY, type AccessPolicy, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';

/** The GatewayException `run` throws; fails the test if it throws nothing or something else. */
export function rejection(run: () => unknown): GatewayException {
  try {
    run();
  } catch (error) {
    if (error instanceof GatewayException) return error;
    throw error;
  }
  throw new Error('expected the request to be rejected');
}

/** The message of the validation error `run` throws. */
export function validationMessage(run: () => unknown): string {
  const error = rejection(run);
  expect(error.code).toBe(GatewayErrorCode.ValidationError);
  return error.message;
}

/**
 * Controllers under test on Fastify, listening on a loopback port: Fastify's inject() loads an ESM-only dependency
 * through require(), which jest refuses.
 */
export async function listenOnLoopback(module: Type | DynamicModule): Promise<{ app: NestFastifyApplication; baseUrl: string }> {
  const app = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter(), { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as AddressInfo;
  return { app, baseUrl: `http://127.0.0.1:${address.port}` };
}

export interface DemandedAccess {
  permission: string;
  environment: string | undefined;
}

/**
 * Stands in for AccessGuard in route tests: signs every request in as `principal` and records the permission and
 * environment the route demanded for it (AccessGuard's enforcement has its own tests).
 */
export function recordingGuard(principal: Principal, demanded: DemandedAccess[]): CanActivate {
  return {
    canActivate: (context: ExecutionContext) => {
      const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
      const policy = new Reflector().get<AccessPolicy | undefined>(ACCESS_POLICY, context.getHandler());
      if (policy?.kind === 'permission') {
        const permission = typeof policy.permission === 'function' ? policy.permission(request) : policy.permission;
        demanded.push({ permission, environment: policy.environment?.(request) });
      }
      request.principal = principal;
      return true;
    },
  };
}

/** A response read once: status, headers, raw body, and the body as JSON on demand. */
export interface HttpAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field in tests
  json: () => any;
}

export async function answerOf(response: Response): Promise<HttpAnswer> {
  const body = await response.text();
  return { statusCode: response.status, headers: Object.fromEntries(response.headers), body, json: () => JSON.parse(body) };
}

/** One request with an optional JSON body, answered as an HttpAnswer. */
export async function sendJson(baseUrl: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return answerOf(
    await fetch(baseUrl + url, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
}
