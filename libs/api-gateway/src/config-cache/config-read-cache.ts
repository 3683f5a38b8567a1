import type { GetConfigRequest, GetConfigResponse } from '@llmops/contracts';
import { principalToMetadata, type Principal } from '@llmops/platform-auth';
import { TwoLayerCache } from '@llmops/platform-cache';
import { GrpcCallError } from '@llmops/platform-grpc';
import type { Logger } from '@llmops/platform-observability';
import type { Registry } from 'prom-client';
import type { ConfigClient } from '../upstreams/upstream-clients.js';

/** The gateway follows every change as a service account that may read configs in every environment. */
const WATCHER: Principal = { id: 'api-gateway/config-read-cache', type: 'service', roles: ['service-account'] };
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

export interface ConfigReadCacheOptions {
  maxEntries?: number;
  /**
   * A backstop only: values are dropped when their key changes. Namespace settings (an environment chain changing
   * how a key resolves) reach the gateway by no change event, so this bounds how long such a resolution is kept.
   */
  ttlMs?: number;
}

/**
 * Resolved config reads kept at the edge, invalidated by config-manager's watch stream (the same one SDK clients
 * follow): a cached read costs authentication, authorization and a map lookup, no gRPC call. Until config-manager
 * confirms the watch is in place, and whenever it drops, reads go to config-manager and nothing cached is served,
 * since a change could be missed.
 * Reads that resolve secret references are never cached.
 */
export class ConfigReadCache {
  private readonly cache: TwoLayerCache<GetConfigResponse>;
  /** The cache keys (one per environment and exactness) holding a resolution of each namespace/key. */
  private readonly cachedByConfig = new Map<string, Set<string>>();
  private watching = false;
  private lastRevision = 0n;
  private readonly stopping = new AbortController();
  private following?: Promise<void>;

  constructor(
    private readonly client: ConfigClient,
    private readonly logger: Logger,
    registry: Registry,
    options: ConfigReadCacheOptions = {},
  ) {
    this.cache = new TwoLayerCache<GetConfigResponse>({
      name: 'gateway-config-reads',
      maxEntries: options.maxEntries ?? 50_000,
      ttlMs: options.ttlMs ?? 5_000,
      registry,
    });
  }

  start(): void {
    this.following ??= this.follow();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.following;
  }

  /** Whether a read served now would be invalidated by any change committed after it was loaded. */
  get live(): boolean {
    return this.watching;
  }

  async read(request: GetConfigRequest, load: () => Promise<GetConfigResponse>): Promise<GetConfigResponse> {
    if (request.resolveSecrets || !this.live) return load();
    const config = configKeyOf(request.namespace, request.key);
    const key = `${config}\u0000${request.environment}\u0000${request.exact ? 1 : 0}`;
    let keys = this.cachedByConfig.get(config);
    if (!keys) this.cachedByConfig.set(config, (keys = new Set()));
    keys.add(key);
    return this.cache.get(key, load);
  }

  /** Drops every cached resolution of a key; the gateway's own writes call it at once, before the watch reports them. */
  forget(namespace: string, key: string): void {
    const config = configKeyOf(namespace, key);
    const keys = this.cachedByConfig.get(config);
    if (!keys) return;
    this.cachedByConfig.delete(config);
    this.cache.dropLocal([...keys], 'local');
  }

  /** Drops every cached resolution: a namespace's settings (its environment chain) change how keys resolve. */
  forgetAll(): void {
    this.cache.clearLocal();
    this.cachedByConfig.clear();
  }

  private async follow(): Promise<void> {
    let delay = RECONNECT_MIN_MS;
    while (!this.stopping.signal.aborted) {
      try {
        const metadata = principalToMetadata(WATCHER, 'config-read-cache');
        const changes = this.client.watchConfigs(
          { namespacePrefix: '', startRevision: this.lastRevision > 0n ? this.lastRevision + 1n : 0n, notifyCreated: true },
          { metadata, signal: this.stopping.signal },
        );
        for await (const change of changes) {
          delay = RECONNECT_MIN_MS;
          if (change.created) {
            // From here on every committed change reaches this loop; before, a read could cache what a change replaces.
            if (this.lastRevision === 0n) this.lastRevision = change.revision;
            this.watching = true;
            continue;
          }
          this.lastRevision = change.revision;
          if (change.entry) this.forget(change.entry.namespace, change.entry.key);
        }
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        // Versions pruned since the last revision seen: nothing cached survives going blind, so start from now.
        if (error instanceof GrpcCallError && error.details['error-code'] === 'REVISION_COMPACTED') this.lastRevision = 0n;
        this.logger.debug({ err: error }, 'config watch for the read cache dropped; reads bypass the cache until it is back');
      }
      this.goBlind();
      if (this.stopping.signal.aborted) break;
      await sleep(delay, this.stopping.signal);
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    }
    this.goBlind();
  }

  /** Without the watch nothing cached can be trusted: resuming from the last revision replays what was missed. */
  private goBlind(): void {
    this.watching = false;
    this.cache.clearLocal();
    this.cachedByConfig.clear();
  }
}

function configKeyOf(namespace: string, key: string): string {
  return `${namespace}/${key}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
