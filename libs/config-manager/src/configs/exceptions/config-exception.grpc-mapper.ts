import { status } from '@grpc/grpc-js';
import { GrpcStatusError } from '@llmops/platform-grpc';
import { ConfigException, ConfigExceptionCode } from './config.exception.js';

/** Maps config-manager domain errors to gRPC status; anything else is left to the server's INTERNAL fallback. */
export function mapConfigExceptionToGrpc(error: unknown): GrpcStatusError | undefined {
  if (!(error instanceof ConfigException)) return undefined;
  const details: Record<string, string> = { ...error.details, 'error-code': error.code };
  if (error.field) details['error-field'] = error.field;
  return new GrpcStatusError(grpcStatusOf(error.code), error.message, details);
}

function grpcStatusOf(code: ConfigExceptionCode): status {
  switch (code) {
    case ConfigExceptionCode.InvalidPath:
    case ConfigExceptionCode.InvalidValue:
      return status.INVALID_ARGUMENT;
    case ConfigExceptionCode.ValueTooLarge:
      return status.RESOURCE_EXHAUSTED;
    case ConfigExceptionCode.NotFound:
      return status.NOT_FOUND;
    case ConfigExceptionCode.VersionConflict:
      return status.ABORTED;
    case ConfigExceptionCode.Conflict:
      return status.FAILED_PRECONDITION;
    case ConfigExceptionCode.RevisionCompacted:
      return status.OUT_OF_RANGE;
    case ConfigExceptionCode.PermissionDenied:
      return status.PERMISSION_DENIED;
    case ConfigExceptionCode.Unauthenticated:
      return status.UNAUTHENTICATED;
    default:
      return assertUnreachable(code);
  }
}

function assertUnreachable(value: never): never {
  throw new Error(`unhandled config exception code ${String(value)}`);
}
