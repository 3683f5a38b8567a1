import { ConfigApiError, GatewayHttp } from './gateway-http.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [field: string]: JsonValue };

/** One version of one key in one environment, as the gateway shows it. */
export interface ConfigEntryView {
  namespace: string;
  key: string;
  environment: string;
  /** null for a tombstone. */
  value: JsonValue;
  version: number;
  revision: number;
  deleted: boolean;
  /** On resolved reads and listings: the environment the value came from. */
  resolved_from?: string;
}

/** The data of one watch event. */
export interface ConfigChangeView {
  revision: number;
  type: 'put' | 'delete';
  entry: ConfigEntryView;
}

interface NamespaceListingView {
  keys?: ConfigEntryView[];
  namespaces?: string[];
}

/** What config-manager uses when no namespace settings name a chain (least to most specific). */
export const DEFAULT_ENVIRONMENT_CHAIN: readonly string[] = ['base', 'development', 'staging', 'production'];

/**
 * The environments a read of `environment` looks at, most specific first, exactly as config-manager resolves them: the
 * chain up to the environment, or, for an environment outside the chain, itself then the chain's root.
 */
export function resolutionOrder(chain: readonly string[], environment: string): string[] {
  const index = chain.indexOf(environment);
  if (index < 0) return environment === chain[0] ? [environment] : [environment, chain[0]!];
  return chain.slice(0, index + 1).reverse();
}

/** The config routes of the gateway the SDK uses. */
export class ConfigApi {
  constructor(readonly http: GatewayHttp) {}

  /** The live keys of one namespace as `environment` resolves them, and its child namespaces; undefined when it holds neither. */
  async listNamespace(namespace: string, environment: string): Promise<{ keys: ConfigEntryView[]; namespaces: string[] } | undefined> {
    try {
      const listing = await this.http.json<NamespaceListingView>('GET', `/api/v1/configs/${namespace}?env=${encodeURIComponent(environment)}`);
      // A path of several segments is read as a key first: a key there is not a namespace to list.
      if (!Array.isArray(listing.keys)) throw new ConfigApiError(409, 'CONFLICT', `${namespace} is a key, not a namespace`);
      return { keys: listing.keys, namespaces: listing.namespaces ?? [] };
    } catch (error) {
      if (error instanceof ConfigApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** A key as `environment` resolves it through the chain; undefined when no environment in the chain has it. */
  async getResolved(namespace: string, key: string, environment: string): Promise<ConfigEntryView | undefined> {
    try {
      return await this.http.json<ConfigEntryView>('GET', `/api/v1/configs/${namespace}/${key}?env=${encodeURIComponent(environment)}`);
    } catch (error) {
      if (error instanceof ConfigApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** The environment chain in force for `namespace` (its settings' or an ancestor's, else the default). */
  async environmentChain(namespace: string): Promise<readonly string[]> {
    const settings = await this.http.json<{ environments: string[] }>('GET', `/api/v1/namespaces/${namespace}`);
    return settings.environments.length > 0 ? settings.environments : DEFAULT_ENVIRONMENT_CHAIN;
  }

  async bulkApply(operations: BulkOperation[]): Promise<ConfigEntryView[]> {
    const response = await this.http.json<{ results: ConfigEntryView[] }>('POST', '/api/v1/configs/bulk', { operations });
    return response.results;
  }

  /** Opens the watch of `namespace`, resuming after `lastRevision` (0: from the first revision). */
  async openWatch(namespace: string, lastRevision: number, signal: AbortSignal): Promise<Response> {
    return this.http.stream(`/api/v1/configs/${namespace}/watch`, { accept: 'text/event-stream', 'last-event-id': String(lastRevision) }, signal);
  }
}

export type BulkOperation =
  | { op: 'set'; path: string; env: string; value: JsonValue; expected_version?: number }
  | { op: 'delete'; path: string; env: string; expected_version?: number };

/**
 * Lists `root` and every namespace below it, resolved for `environment`. Each listing is its own read, so the result is
 * not one snapshot; callers that need a consistent start use the revisions of what they read.
 */
export async function listNamespaceTree(api: ConfigApi, root: string, environment: string): Promise<ConfigEntryView[]> {
  const entries: ConfigEntryView[] = [];
  const pending = [root];
  for (let namespace = pending.shift(); namespace !== undefined; namespace = pending.shift()) {
    const listing = await api.listNamespace(namespace, environment);
    if (!listing) continue;
    entries.push(...listing.keys);
    for (const child of listing.namespaces) pending.push(`${namespace}/${child}`);
  }
  return entries;
}
