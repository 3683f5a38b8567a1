export enum AuditExceptionCode {
  InvalidQuery = 'INVALID_QUERY',
  NotFound = 'NOT_FOUND',
  PermissionDenied = 'PERMISSION_DENIED',
  Unauthenticated = 'UNAUTHENTICATED',
}

export class AuditException extends Error {
  constructor(
    readonly code: AuditExceptionCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'AuditException';
  }
}
