/** Where the gateway is and who is calling: an API key (`x-api-key`) or a bearer token. */
export interface GatewayConnection {
  baseUrl: string;
  apiKey?: string;
  token?: string;
  /** Defaults to the global fetch; pass another to route through a proxy or instrument calls. */
  fetch?: typeof fetch;
}

/** A gateway answer other than 2xx, with the error envelope's code (`CONFLICT`, `NOT_FOUND`, …) when it had one. */
export class ConfigApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigApiError';
  }
}

/**
 * True when the gateway could not be reached or could not answer (network failure, 5xx, rate limited): the kind of
 * failure a client rides out on the values it has. A 4xx is the caller's mistake and is not.
 */
export function isServerUnreachable(error: unknown): boolean {
  if (error instanceof ConfigApiError) return error.status >= 500 || error.status === 429;
  // fetch reports a refused or cut connection as a TypeError; compared by name, as it may come from another realm.
  return typeof error === 'object' && error !== null && (error as Error).name === 'TypeError';
}

/** JSON over HTTP to the gateway, authenticated; non-2xx answers become ConfigApiError. */
export class GatewayHttp {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly connection: GatewayConnection) {
    if (!connection.apiKey && !connection.token) throw new Error('an apiKey or a token is required');
    this.baseUrl = connection.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = connection.fetch ?? fetch;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers = this.headers();
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.fetchImpl(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw errorOf(response.status, text);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** Opens a streaming GET; the caller reads the body and checks the status (a 410 means something to a watcher). */
  async stream(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    return this.fetchImpl(`${this.baseUrl}${path}`, { headers: { ...this.headers(), ...headers }, signal });
  }

  async errorOf(response: Response): Promise<ConfigApiError> {
    return errorOf(response.status, await response.text().catch(() => ''));
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.connection.apiKey) headers['x-api-key'] = this.connection.apiKey;
    else headers.authorization = `Bearer ${this.connection.token}`;
    return headers;
  }
}

function errorOf(status: number, text: string): ConfigApiError {
  try {
    const envelope = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (envelope.error?.message) return new ConfigApiError(status, envelope.error.code ?? 'UNKNOWN', envelope.error.message);
  } catch {
    // Not the gateway's envelope (a proxy's page, say): the status says enough.
  }
  return new ConfigApiError(status, 'UNKNOWN', `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`);
}
