import { Catch, Inject, Injectable, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { status } from '@grpc/grpc-js';
import { GrpcCallError } from '@llmops/platform-grpc';
import type { Logger } from '@llmops/platform-observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toGatewayException } from '../errors/error-envelope.filter.js';
import { GatewayErrorCode, httpStatusOf } from '../errors/gateway.exception.js';
import type { VaultErrorBody } from './vault-responses.js';

export const VAULT_ERROR_LOGGER = Symbol('VAULT_ERROR_LOGGER');

/** Vault's own wording, which clients and scripts match on. */
export const VAULT_CAS_MISMATCH = 'check-and-set parameter did not match the current version';
export const VAULT_CAS_REQUIRED = 'check-and-set parameter required for this call';
export const VAULT_PERMISSION_DENIED = 'permission denied';

export interface VaultError {
  statusCode: number;
  body: VaultErrorBody;
  headers: Record<string, string>;
}

/**
 * A failure as Vault reports it: `{"errors": [...]}` with Vault's status codes. A missing secret is 404 with no
 * errors; a refused or missing token is 403 "permission denied" (Vault has no 401), followed by why.
 */
export function vaultErrorOf(exception: unknown): VaultError {
  if (exception instanceof GrpcCallError && exception.details['error-code'] === 'VERSION_CONFLICT') {
    return { statusCode: 400, body: { errors: [VAULT_CAS_MISMATCH] }, headers: {} };
  }
  if (exception instanceof GrpcCallError && exception.code === status.INVALID_ARGUMENT && exception.details['error-field'] === 'expected_version') {
    return { statusCode: 400, body: { errors: [VAULT_CAS_REQUIRED] }, headers: {} };
  }
  const error = toGatewayException(exception);
  switch (error.code) {
    case GatewayErrorCode.NotFound:
      return { statusCode: 404, body: { errors: [] }, headers: {} };
    case GatewayErrorCode.AuthFailed:
    case GatewayErrorCode.Forbidden:
      return { statusCode: 403, body: { errors: [VAULT_PERMISSION_DENIED, error.message] }, headers: {} };
    case GatewayErrorCode.Conflict:
    case GatewayErrorCode.ValidationError:
    case GatewayErrorCode.UnsupportedMediaType:
      return { statusCode: 400, body: { errors: [error.message] }, headers: {} };
    default:
      return { statusCode: httpStatusOf(error.code), body: { errors: [error.message] }, headers: error.headers };
  }
}

/** Errors on the Vault-compatible routes leave in Vault's shape, not the platform's envelope. */
@Catch()
@Injectable()
export class VaultErrorFilter implements ExceptionFilter {
  constructor(@Inject(VAULT_ERROR_LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const error = vaultErrorOf(exception);
    if (error.statusCode >= 500) {
      this.logger.error({ err: exception, url: request.url, method: request.method }, 'vault request failed');
    }
    void reply
      .status(error.statusCode)
      .headers(error.headers)
      .header('cache-control', 'no-store')
      .header('content-type', 'application/json')
      .send(error.body);
  }
}
