import { status } from '@grpc/grpc-js';
import { GrpcStatusError } from '@llmops/platform-grpc';
import { AuditException, AuditExceptionCode } from './audit.exception.js';

export function mapAuditExceptionToGrpc(error: unknown): GrpcStatusError | undefined {
  if (!(error instanceof AuditException)) return undefined;
  const details: Record<string, string> = { 'error-code': error.code };
  if (error.field) details['error-field'] = error.field;
  return new GrpcStatusError(grpcStatusOf(error.code), error.message, details);
}

function grpcStatusOf(code: AuditExceptionCode): status {
  switch (code) {
    case AuditExceptionCode.InvalidQuery:
      return status.INVALID_ARGUMENT;
    case AuditExceptionCode.PermissionDenied:
      return status.PERMISSION_DENIED;
    case AuditExceptionCode.Unauthenticated:
      return status.UNAUTHENTICATED;
    case AuditExceptionCode.NotFound:
      return status.NOT_FOUND;
    default:
      return assertUnreachable(code);
  }
}

function assertUnreachable(value: never): never {
  throw new Error(`unhandled audit exception code ${String(value)}`);
}
