export enum AuthExceptionCode {
  TokenMissing = 'TOKEN_MISSING',
  TokenExpired = 'TOKEN_EXPIRED',
  TokenInvalid = 'TOKEN_INVALID',
  TokenWrongType = 'TOKEN_WRONG_TYPE',
  CredentialsInvalid = 'CREDENTIALS_INVALID',
  ApiKeyInvalid = 'API_KEY_INVALID',
  ApiKeyRevoked = 'API_KEY_REVOKED',
  /** Identity forwarded between services (gRPC metadata) or stored roles failed validation. */
  PrincipalInvalid = 'PRINCIPAL_INVALID',
}

/**
 * An authentication failure. The message tells a client what to do next and never contains the credential;
 * each transport maps `code` to its status (401 / UNAUTHENTICATED).
 */
export class AuthException extends Error {
  constructor(
    readonly code: AuthExceptionCode,
    message: string,
  ) {
    super(message);
    this.name = 'AuthException';
  }
}
