import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { GrpcCallError } from '@llmops/platform-grpc';
import type { Logger } from '@llmops/platform-observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayErrorCode, GatewayException, httpStatusOf } from './gateway.exception.js';
import { gatewayExceptionFromGrpc } from './grpc-error.mapper.js';

export interface ErrorEnvelope {
  error: { code: string; message: string; request_id: string };
}

/** Every error leaves the gateway as seed 000's envelope; internal details are logged, never returned. */
@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const error = toGatewayException(exception);
    const statusCode = httpStatusOf(error.code);
    if (statusCode >= 500) {
      this.logger.error({ err: exception, url: request.url, method: request.method }, 'request failed');
    }
    const body: ErrorEnvelope = { error: { code: error.code, message: error.message, request_id: String(request.id) } };
    void reply.status(statusCode).headers(error.headers).header('content-type', 'application/json').send(body);
  }
}

export function toGatewayException(exception: unknown): GatewayException {
  if (exception instanceof GatewayException) return exception;
  if (exception instanceof GrpcCallError) return gatewayExceptionFromGrpc(exception);
  if (exception instanceof HttpException) return fromHttpException(exception);
  const fastifyError = exception as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode < 500) {
    return fromStatus(fastifyError.statusCode, fastifyMessage(fastifyError));
  }
  return new GatewayException(GatewayErrorCode.Internal, 'internal error');
}

function fromHttpException(exception: HttpException): GatewayException {
  const statusCode = exception.getStatus();
  const response = exception.getResponse();
  const message =
    typeof response === 'object' && response !== null && 'message' in response
      ? String((response as { message: unknown }).message)
      : exception.message;
  if (statusCode === 404) return new GatewayException(GatewayErrorCode.NotFound, message);
  return fromStatus(statusCode, message);
}

function fromStatus(statusCode: number, message: string): GatewayException {
  switch (statusCode) {
    case 400:
      return new GatewayException(GatewayErrorCode.ValidationError, message);
    case 401:
      return new GatewayException(GatewayErrorCode.AuthFailed, message);
    case 403:
      return new GatewayException(GatewayErrorCode.Forbidden, message);
    case 404:
    case 405:
      return new GatewayException(GatewayErrorCode.NotFound, message);
    case 409:
      return new GatewayException(GatewayErrorCode.Conflict, message);
    case 413:
      return new GatewayException(GatewayErrorCode.PayloadTooLarge, message);
    case 415:
      return new GatewayException(GatewayErrorCode.UnsupportedMediaType, message);
    case 429:
      return new GatewayException(GatewayErrorCode.RateLimit, message);
    default:
      return new GatewayException(GatewayErrorCode.ValidationError, message);
  }
}

/** Fastify's own errors (body parsing, size limit) get messages a client can act on. */
function fastifyMessage(error: { code?: string; message?: string }): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'request body is larger than the limit';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'content type must be application/json';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'request body is empty; send a JSON document';
    default:
      return error.message && /JSON/i.test(error.message) ? `malformed JSON body: ${error.message}` : (error.message ?? 'bad request');
  }
}
