import { status } from '@grpc/grpc-js';
import { GrpcStatusError } from '@llmops/platform-grpc';
import { SecretException, SecretExceptionCode } from './secret.exception.js';

/** Maps secret-service domain errors to gRPC status; anything else is left to the server's INTERNAL fallback. */
export function mapSecretExceptionToGrpc(error: unknown): GrpcStatusError | undefined {
  if (!(error instanceof SecretException)) return undefined;
  const details: Record<string, string> = { 'error-code': error.code };
  if (error.field) details['error-field'] = error.field;
  return new GrpcStatusError(grpcStatusOf(error.code), error.message, details);
}

function grpcStatusOf(code: SecretExceptionCode): status {
  switch (code) {
    case SecretExceptionCode.InvalidPath:
    case SecretExceptionCode.InvalidValue:
      return status.INVALID_ARGUMENT;
    case SecretExceptionCode.ValueTooLarge:
      return status.RESOURCE_EXHAUSTED;
    case SecretExceptionCode.NotFound:
      return status.NOT_FOUND;
    case SecretExceptionCode.VersionConflict:
      return status.ABORTED;
    case SecretExceptionCode.Conflict:
      return status.FAILED_PRECONDITION;
    case SecretExceptionCode.DecryptionFailed:
      return status.DATA_LOSS;
    case SecretExceptionCode.KeyUnavailable:
    case SecretExceptionCode.RotationFailed:
      return status.UNAVAILABLE;
    case SecretExceptionCode.PermissionDenied:
      return status.PERMISSION_DENIED;
    case SecretExceptionCode.Unauthenticated:
      return status.UNAUTHENTICATED;
    default:
      return assertUnreachable(code);
  }
}

function assertUnreachable(value: never): never {
  throw new Error(`unhandled secret exception code ${String(value)}`);
}
