import { describe, expect, it } from '@jest/globals';
import { status } from '@grpc/grpc-js';
import { GrpcCallError } from '@llmops/platform-grpc';
import { toGatewayException } from './error-envelope.filter.js';
import { GatewayErrorCode, httpStatusOf } from './gateway.exception.js';

describe('gateway error mapping', () => {
  it.each([
    [status.INVALID_ARGUMENT, GatewayErrorCode.ValidationError, 400],
    [status.NOT_FOUND, GatewayErrorCode.NotFound, 404],
    [status.ABORTED, GatewayErrorCode.Conflict, 409],
    [status.PERMISSION_DENIED, GatewayErrorCode.Forbidden, 403],
    [status.UNAUTHENTICATED, GatewayErrorCode.AuthFailed, 401],
    [status.UNAVAILABLE, GatewayErrorCode.ServiceUnavailable, 503],
    [status.DEADLINE_EXCEEDED, GatewayErrorCode.ServiceUnavailable, 503],
    [status.UNIMPLEMENTED, GatewayErrorCode.NotImplemented, 501],
    [status.INTERNAL, GatewayErrorCode.Internal, 500],
    [status.DATA_LOSS, GatewayErrorCode.IntegrityError, 500],
  ])('maps gRPC status %s to %s (%s)', (grpcStatus, code, httpStatus) => {
    const mapped = toGatewayException(new GrpcCallError(grpcStatus, 'upstream says so'));
    expect(mapped.code).toBe(code);
    expect(httpStatusOf(mapped.code)).toBe(httpStatus);
  });

  it('keeps the upstream message for client errors and hides it for server errors', () => {
    expect(toGatewayException(new GrpcCallError(status.NOT_FOUND, 'config a/b not found')).message).toBe('config a/b not found');
    expect(toGatewayException(new GrpcCallError(status.INTERNAL, 'db password leaked')).message).toBe('internal error');
    expect(toGatewayException(new GrpcCallError(status.UNAVAILABLE, '10.0.0.3:50051 refused')).message).not.toContain('10.0.0.3');
  });

  it('says a stored secret failed its integrity check, without the upstream detail', () => {
    const mapped = toGatewayException(new GrpcCallError(status.DATA_LOSS, 'auth tag mismatch for kek 3 at acme/db version 2'));
    expect(mapped.message).toBe('the stored secret failed its integrity check and cannot be read');
  });

  it('tells a value that is too large from a rate limit', () => {
    const tooLarge = new GrpcCallError(status.RESOURCE_EXHAUSTED, 'value is 600000 bytes', { 'error-code': 'VALUE_TOO_LARGE' });
    expect(toGatewayException(tooLarge).code).toBe(GatewayErrorCode.PayloadTooLarge);
    expect(toGatewayException(new GrpcCallError(status.RESOURCE_EXHAUSTED, 'slow down')).code).toBe(GatewayErrorCode.RateLimit);
  });

  it('turns Fastify parsing errors into client errors with actionable messages', () => {
    const tooLarge = toGatewayException({ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: 'Request body is too large' });
    expect(tooLarge.code).toBe(GatewayErrorCode.PayloadTooLarge);
    const malformed = toGatewayException({ statusCode: 400, message: 'Unexpected end of JSON input' });
    expect(malformed.code).toBe(GatewayErrorCode.ValidationError);
    expect(malformed.message).toMatch(/malformed JSON body/);
    const mediaType = toGatewayException({ statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', message: 'x' });
    expect(mediaType.code).toBe(GatewayErrorCode.UnsupportedMediaType);
  });

  it('never exposes an unknown error', () => {
    const mapped = toGatewayException(new Error('TypeError: cannot read x of undefined at /srv/app.js:12'));
    expect(mapped.code).toBe(GatewayErrorCode.Internal);
    expect(mapped.message).toBe('internal error');
  });
});
