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
      metadata.set(key, LEGAL_VALUE.test(value) ? truncated(value) : encodeURIComponent(truncated(value)));
    }
    const message = truncated(this.message);
    return { code: this.code, details: message, message, metadata };
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

/**
 * Status messages and details travel in HTTP/2 trailers, which the peer caps (16 KiB by default): a message quoting a
 * huge input would break the stream, and with it the channel other calls share. Past this, the text is cut.
 */
export const MAX_STATUS_TEXT = 1_024;

function truncated(text: string): string {
  return text.length <= MAX_STATUS_TEXT ? text : `${text.slice(0, MAX_STATUS_TEXT - 24)}... (${text.length} chars)`;
}
