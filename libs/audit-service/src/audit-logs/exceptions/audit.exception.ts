export enum AuditExceptionCode {
  InvalidQuery = 'INVALID_QUERY',
  PermissionDenied = 'PERMISSION_DENIED',
  Unauthenticated = 'UNAUTHENTICATED',
  NotAvailable = 'NOT_AVAILABLE',
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
