import type { FastifyRequest } from 'fastify';
import { GatewayErrorCode, GatewayException } from './gateway.exception.js';

/** Deeper than any configuration needs; recursive validators and protobuf's JSON reader give out not far above. */
export const MAX_BODY_DEPTH = 64;

/**
 * Refuses, before any route sees it, input that parsers and PostgreSQL cannot take: a NUL character (PostgreSQL text
 * and jsonb cannot hold one) in the URL or anywhere in the body, and bodies nested deeper than MAX_BODY_DEPTH (each
 * validator on the way recurses). Walks the body without recursion, so the check itself cannot overflow.
 */
export function assertSaneInput(request: FastifyRequest): void {
  if (/%00/i.test(request.url) || request.url.includes('\u0000')) {
    throw new GatewayException(GatewayErrorCode.ValidationError, 'the URL contains a NUL character (%00), which no name or value may hold');
  }
  const body: unknown = request.body;
  if (body === null || typeof body !== 'object') {
    if (typeof body === 'string' && body.includes('\u0000')) throw nulInBody('body');
    return;
  }
  const pending: Array<{ value: unknown; depth: number; path: string }> = [{ value: body, depth: 1, path: 'body' }];
  while (pending.length > 0) {
    const { value, depth, path } = pending.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) throw nulInBody(path);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_BODY_DEPTH) {
      throw new GatewayException(GatewayErrorCode.ValidationError, `the body nests deeper than ${MAX_BODY_DEPTH} levels (at ${path})`);
    }
    for (const [key, child] of Object.entries(value)) {
      if (key.includes('\u0000')) throw nulInBody(`${path} (a field name)`);
      pending.push({ value: child, depth: depth + 1, path: Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}` });
    }
  }
}

function nulInBody(path: string): GatewayException {
  return new GatewayException(GatewayErrorCode.ValidationError, `${path} contains a NUL character (\\u0000), which no name or value may hold`);
}
