import { status } from '@grpc/grpc-js';
import { GrpcCallError } from '@llmops/platform-grpc';
import { GatewayErrorCode, GatewayException } from './gateway.exception.js';

/** Turns an upstream gRPC failure into the HTTP error a client of the REST API should see. */
export function gatewayExceptionFromGrpc(error: GrpcCallError): GatewayException {
  const message = error.message;
  switch (error.code) {
    case status.INVALID_ARGUMENT:
    case status.OUT_OF_RANGE:
      return new GatewayException(GatewayErrorCode.ValidationError, message);
    case status.NOT_FOUND:
      return new GatewayException(GatewayErrorCode.NotFound, message);
    case status.ALREADY_EXISTS:
    case status.ABORTED:
    case status.FAILED_PRECONDITION:
      return new GatewayException(GatewayErrorCode.Conflict, message);
    case status.PERMISSION_DENIED:
      return new GatewayException(GatewayErrorCode.Forbidden, message);
    case status.UNAUTHENTICATED:
      return new GatewayException(GatewayErrorCode.AuthFailed, message);
    case status.RESOURCE_EXHAUSTED:
      return error.details['error-code'] === 'VALUE_TOO_LARGE'
        ? new GatewayException(GatewayErrorCode.PayloadTooLarge, message)
        : new GatewayException(GatewayErrorCode.RateLimit, message);
    case status.UNIMPLEMENTED:
      return new GatewayException(GatewayErrorCode.NotImplemented, message);
    case status.DATA_LOSS:
      // secret-service's "stored ciphertext failed authentication": the client learns what failed, not how or where.
      return new GatewayException(GatewayErrorCode.IntegrityError, 'the stored secret failed its integrity check and cannot be read');
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
    case status.CANCELLED:
      return new GatewayException(GatewayErrorCode.ServiceUnavailable, 'an upstream service is unavailable; retry later');
    default:
      return new GatewayException(GatewayErrorCode.Internal, 'internal error');
  }
}
