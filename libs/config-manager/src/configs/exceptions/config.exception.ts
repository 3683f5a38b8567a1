export enum ConfigExceptionCode {
  InvalidPath = 'INVALID_PATH',
  InvalidValue = 'INVALID_VALUE',
  ValueTooLarge = 'VALUE_TOO_LARGE',
  NotFound = 'NOT_FOUND',
  VersionConflict = 'VERSION_CONFLICT',
  /** The key is not in the state the operation needs (e.g. undelete of a live key). */
  Conflict = 'CONFLICT',
  /** A watch asked to start at or below the compacted revision: the changes it would replay are no longer all kept. */
  RevisionCompacted = 'REVISION_COMPACTED',
  PermissionDenied = 'PERMISSION_DENIED',
  Unauthenticated = 'UNAUTHENTICATED',
}

/** A config-manager domain error; transports map `code` to their status (see config-exception.grpc-mapper). */
export class ConfigException extends Error {
  constructor(
    readonly code: ConfigExceptionCode,
    message: string,
    readonly field?: string,
    /** Machine-readable facts for the client, e.g. `compacted-revision`; transports pass them on as details. */
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ConfigException';
  }
}
