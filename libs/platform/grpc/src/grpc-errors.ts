import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

const LEGAL_KEY = /^[0-9a-z_.-]+$/;
const LEGAL_VALUE = /^[ -~]*$/;

/** Thrown by handlers (or produced by a service's error mapper) to answer with a specific status. */
export class GrpcStatusError extends Error {
  constructor(
    readonly code: status,
    message: string,
    /** Sent as trailing metadata (e.g. `error-code`, `error-field`) so callers can map the error precisely. */
    readonly details: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GrpcStatusError';
  }

  toServiceError(): Partial<ServiceError> {
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(this.details)) {
      // Trailers take printable ASCII only, and grpc-js throws on anything else: a detail quoting user input is
      // percent-encoded, a detail with an unusable key is dropped, so the status itself always goes out.
      if (!LEGAL_KEY.test(key.toLowerCase()) || key.endsWith('-bin')) continue;
      metadata.set(key, LEGAL_VALUE.test(value) ? value : encodeURIComponent(value));
    }
    return { code: this.code, details: this.message, message: this.message, metadata };
  }
}

/** What a client call rejects with: the status, the server's message and its detail metadata. */
export class GrpcCallError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly details: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GrpcCallError';
  }

  static fromServiceError(error: ServiceError): GrpcCallError {
    return new GrpcCallError(error.code, error.details || error.message, stringEntries(error.metadata));
  }
}

export function stringEntries(metadata: Metadata | undefined): Record<string, string> {
  const entries: Record<string, string> = {};
  if (!metadata) return entries;
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (typeof value === 'string') entries[key] = value;
  }
  return entries;
}
