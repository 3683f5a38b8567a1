/** The error codes of seed 000's envelope, plus the few HTTP-specific ones a client needs to tell apart. */
export enum GatewayErrorCode {
  AuthFailed = 'AUTH_FAILED',
  Forbidden = 'FORBIDDEN',
  ValidationError = 'VALIDATION_ERROR',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  RateLimit = 'RATE_LIMIT',
  Internal = 'INTERNAL_ERROR',
  /** Stored data failed authentication (e.g. a secret's ciphertext): server-side corruption or tampering. */
  IntegrityError = 'INTEGRITY_ERROR',
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
  NotImplemented = 'NOT_IMPLEMENTED',
}

export class GatewayException extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GatewayException';
  }
}

export function httpStatusOf(code: GatewayErrorCode): number {
  switch (code) {
    case GatewayErrorCode.AuthFailed:
      return 401;
    case GatewayErrorCode.Forbidden:
      return 403;
    case GatewayErrorCode.ValidationError:
      return 400;
    case GatewayErrorCode.NotFound:
      return 404;
    case GatewayErrorCode.Conflict:
      return 409;
    case GatewayErrorCode.PayloadTooLarge:
      return 413;
    case GatewayErrorCode.UnsupportedMediaType:
      return 415;
    case GatewayErrorCode.RateLimit:
      return 429;
    case GatewayErrorCode.Internal:
    case GatewayErrorCode.IntegrityError:
      return 500;
    case GatewayErrorCode.NotImplemented:
      return 501;
    case GatewayErrorCode.ServiceUnavailable:
      return 503;
    default:
      return assertUnreachable(code);
  }
}

function assertUnreachable(value: never): never {
  throw new Error(`unhandled gateway error code ${String(value)}`);
}
