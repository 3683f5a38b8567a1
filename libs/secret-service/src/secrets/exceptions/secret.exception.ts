export enum SecretExceptionCode {
  InvalidPath = 'INVALID_PATH',
  /** The value does not have the shape its secret type requires (e.g. a PEM that does not parse). */
  InvalidValue = 'INVALID_VALUE',
  ValueTooLarge = 'VALUE_TOO_LARGE',
  NotFound = 'NOT_FOUND',
  VersionConflict = 'VERSION_CONFLICT',
  /** The secret is not in the state the operation needs (e.g. reading a destroyed version). */
  Conflict = 'CONFLICT',
  /** Stored ciphertext, nonce, wrapped key or its binding to path and version failed authentication. */
  DecryptionFailed = 'DECRYPTION_FAILED',
  /** The key-encryption key version is unknown, retired below min_decryption_version, or the KMS refused. */
  KeyUnavailable = 'KEY_UNAVAILABLE',
  /** A rotator could not generate, test, verify or revoke; the current version stays in place. */
  RotationFailed = 'ROTATION_FAILED',
  PermissionDenied = 'PERMISSION_DENIED',
  Unauthenticated = 'UNAUTHENTICATED',
}

/**
 * A secret-service domain error; transports map `code` to their status. Messages never carry secret material:
 * they name the path, version, field or key version, never a value.
 */
export class SecretException extends Error {
  constructor(
    readonly code: SecretExceptionCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'SecretException';
  }
}
