import { ConfigApi, listNamespaceTree, resolutionOrder, type ConfigChangeView, type ConfigEntryView, type JsonValue } from '../http/config-api.js';
import { ConfigApiError, GatewayHttp, isServerUnreachable, type GatewayConnection } from '../http/gateway-http.js';
import { changeEffectOf } from './change-effect.js';
import { readSnapshot, writeSnapshot, type ConfigSnapshot, type ResolvedKey } from './config-snapshot.js';
import { DEFAULT_RECONNECT_BACKOFF, reconnectDelayMs, type ReconnectBackoff } from './reconnect-delay.js';
import { readServerSentEvents } from './server-sent-events.js';

/**
 * `connected`: the watch is open and values follow the server. `reconnecting`: the watch dropped and is being reopened.
 * `offline`: the server could not be reached (or the client started from its snapshot); values are the last known.
 */
export type ConfigClientStatus = 'connected' | 'reconnecting' | 'offline';

/** A key whose resolved value changed; `value` is undefined when the key no longer resolves (deleted). */
export interface ConfigChange {
  key: string;
  value: JsonValue | undefined;
  previous: JsonValue | undefined;
  /** The revision the client had reached when it saw the change. */
  revision: number;
}

export interface ConfigClientOptions extends GatewayConnection {
  /** The namespace to follow, with every namespace below it. */
  namespace: string;
  /** The environment values resolve for (through the namespace's environment chain). */
  environment: string;
  /** Where the last known state is kept, so a start while the server is down still serves values. */
  snapshotFile?: string;
  /** How long changes gather before the snapshot is written; 250 ms when absent. */
  snapshotDebounceMs?: number;
  onChange?: (change: ConfigChange) => void;
  reconnect?: Partial<ReconnectBackoff>;
}

interface ConfigClientEvents {
  change: ConfigChange;
  status: ConfigClientStatus;
}

const DEFAULT_SNAPSHOT_DEBOUNCE_MS = 250;

/**
 * A namespace's configuration for one environment, held in memory and kept fresh by the gateway's watch stream.
 * `get()` is a map lookup; the watch, reconnection and snapshot all run beside it, and when the server is unreachable
 * the client keeps answering with the last values it had.
 *
 * Keys are paths relative to the namespace: `model` for `<namespace>/model`, `eval/model` for `<namespace>/eval/model`.
 */
export class ConfigClient {
  private readonly api: ConfigApi;
  private readonly namespace: string;
  private readonly environment: string;
  private readonly backoff: ReconnectBackoff;
  /** The hot path: resolved values by key, nothing else. */
  private readonly values = new Map<string, JsonValue>();
  private readonly resolved = new Map<string, ResolvedKey>();
  /** Resolution order per namespace, most specific first; undefined when the caller may not read the settings. */
  private readonly orders = new Map<string, readonly string[] | undefined>();
  private readonly listeners: { [E in keyof ConfigClientEvents]: Set<(payload: ConfigClientEvents[E]) => void> } = {
    change: new Set(),
    status: new Set(),
  };
  private readonly stopping = new AbortController();
  private appliedRevision = 0;
  /** Changes up to this revision may already be part of the last full load. */
  private loadHorizon = 0;
  /** The compacted revision a 410 named: a reload resumes above it, since the server can no longer replay below. */
  private compactedRevision = 0;
  private loaded = false;
  private needsReload = false;
  private currentStatus: ConfigClientStatus = 'offline';
  private watching: Promise<void> = Promise.resolve();
  private snapshotTimer: NodeJS.Timeout | undefined;
  private snapshotWrites: Promise<void> = Promise.resolve();

  private constructor(private readonly options: ConfigClientOptions) {
    this.api = new ConfigApi(new GatewayHttp(options));
    this.namespace = options.namespace.replace(/^\/+|\/+$/g, '');
    this.environment = options.environment;
    this.backoff = { ...DEFAULT_RECONNECT_BACKOFF, ...options.reconnect };
    if (options.onChange) this.listeners.change.add(options.onChange);
  }

  /**
   * Loads the namespace and opens its watch; resolves once the first watch attempt has succeeded or failed. When the
   * server cannot be reached and a snapshot exists, starts from the snapshot with status `offline`; otherwise rejects.
   */
  static async connect(options: ConfigClientOptions): Promise<ConfigClient> {
    const client = new ConfigClient(options);
    await client.start();
    return client;
  }

  /** The last revision whose changes the values include. */
  get revision(): number {
    return this.appliedRevision;
  }

  get status(): ConfigClientStatus {
    return this.currentStatus;
  }

  get<T = JsonValue>(key: string): T | undefined;
  get<T = JsonValue>(key: string, fallback: T): T;
  get<T = JsonValue>(key: string, fallback?: T): T | undefined {
    const value = this.values.get(key);
    return value === undefined ? fallback : (value as T);
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  keys(): string[] {
    return [...this.values.keys()].sort();
  }

  /** Subscribes to changed values or status; returns the unsubscribe function. */
  on<E extends keyof ConfigClientEvents>(event: E, listener: (payload: ConfigClientEvents[E]) => void): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  /** Stops the watch and writes the snapshot if a write was pending. The values stay readable. */
  async close(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    await this.watching;
    if (this.snapshotTimer) {
      clearTimeout(this.snapshotTimer);
      this.snapshotTimer = undefined;
      this.queueSnapshotWrite();
    }
    await this.snapshotWrites;
  }

  private async start(): Promise<void> {
    try {
      await this.reload();
    } catch (error) {
      const file = this.options.snapshotFile;
      const snapshot = file !== undefined && isServerUnreachable(error) ? await readSnapshot(file, this.namespace, this.environment) : undefined;
      if (!snapshot) throw error;
      this.restore(snapshot);
      // The snapshot's revision may come from a server restored from backup since: load afresh rather than resume.
      this.needsReload = true;
    }
    let firstAttemptDone!: () => void;
    const firstAttempt = new Promise<void>((resolve) => (firstAttemptDone = resolve));
    this.watching = this.watch(firstAttemptDone);
    await firstAttempt;
  }

  /**
   * Watches from the applied revision until closed, reconnecting with backoff and resuming with Last-Event-ID. A 410
   * or an `error` event (the server no longer has the changes after our revision) makes the next attempt load afresh.
   */
  private async watch(firstAttemptDone: () => void): Promise<void> {
    let failures = 0;
    while (!this.stopping.signal.aborted) {
      let opened = false;
      try {
        if (this.needsReload) {
          await this.reload();
          this.needsReload = false;
        }
        const response = await this.api.openWatch(this.namespace, this.appliedRevision, this.stopping.signal);
        if (response.status === 410) {
          // The server answered, so this is no outage: the next attempt loads afresh at once.
          opened = true;
          this.compactedRevision = Math.max(this.compactedRevision, await compactedRevisionOf(response));
          this.needsReload = true;
        } else {
          if (!response.ok || !response.body) throw await this.api.http.errorOf(response);
          opened = true;
          failures = 0;
          this.setStatus('connected');
          firstAttemptDone();
          for await (const event of readServerSentEvents(response.body)) {
            if (event.type === 'put' || event.type === 'delete') await this.applyChange(JSON.parse(event.data) as ConfigChangeView);
            else if (event.type === 'error') {
              this.needsReload = true;
              break;
            }
          }
        }
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        if (!opened) failures++;
        if (!isServerUnreachable(error)) process.emitWarning(`config watch of ${this.namespace}: ${String(error)}`);
      }
      if (this.stopping.signal.aborted) break;
      this.setStatus(opened ? 'reconnecting' : 'offline');
      firstAttemptDone();
      await this.pause(reconnectDelayMs(failures, this.backoff));
    }
  }

  /**
   * Loads every key afresh. The tree is listed twice: every change up to the highest revision the first pass saw had
   * committed before the second began, so the watch resumes after that revision without missing one. Changes after it
   * that the second pass already holds come again and are recognised by their versions. After a 410 it resumes above
   * the compacted revision at least: every change up to it had committed before the 410, so both passes hold it.
   */
  private async reload(): Promise<void> {
    const revisionBefore = highestRevision(await listNamespaceTree(this.api, this.namespace, this.environment));
    const entries = await listNamespaceTree(this.api, this.namespace, this.environment);
    const next = new Map<string, ResolvedKey>();
    for (const entry of entries) next.set(this.keyOf(entry.namespace, entry.key), resolvedKeyOf(entry));
    this.orders.clear();
    for (const key of this.resolved.keys()) if (!next.has(key)) this.setKey(key, undefined, revisionBefore);
    for (const [key, value] of next) this.setKey(key, value, revisionBefore);
    this.appliedRevision = Math.max(revisionBefore, this.compactedRevision);
    this.loadHorizon = Math.max(revisionBefore, highestRevision(entries));
    this.loaded = true;
    this.scheduleSnapshot();
  }

  private restore(snapshot: ConfigSnapshot): void {
    for (const [key, value] of Object.entries(snapshot.keys)) this.setKey(key, value, snapshot.revision);
    this.appliedRevision = snapshot.revision;
    this.loaded = true;
  }

  /** Applies one change exactly once: the watch delivers in revision order, and a resumed watch may repeat some. */
  private async applyChange(change: ConfigChangeView): Promise<void> {
    if (change.revision <= this.appliedRevision) return;
    const { entry } = change;
    const key = this.keyOf(entry.namespace, entry.key);
    const order = await this.orderOf(entry.namespace);
    const effect = changeEffectOf(order, this.resolved.get(key), entry, change.revision <= this.loadHorizon);
    if (effect === 'apply') this.setKey(key, resolvedKeyOf(entry), change.revision);
    else if (effect === 'refetch') {
      const current = await this.api.getResolved(entry.namespace, entry.key, this.environment);
      this.setKey(key, current && resolvedKeyOf(current), change.revision);
    }
    this.appliedRevision = change.revision;
    this.scheduleSnapshot();
  }

  private async orderOf(namespace: string): Promise<readonly string[] | undefined> {
    if (this.orders.has(namespace)) return this.orders.get(namespace);
    let order: readonly string[] | undefined;
    try {
      order = resolutionOrder(await this.api.environmentChain(namespace), this.environment);
    } catch (error) {
      // Settings need read access to every environment; without it every change is settled by reading the key.
      if (!(error instanceof ConfigApiError && error.status === 403)) throw error;
    }
    this.orders.set(namespace, order);
    return order;
  }

  private setKey(key: string, next: ResolvedKey | undefined, revision: number): void {
    const previous = this.resolved.get(key);
    if (previous?.environment === next?.environment && previous?.version === next?.version) return;
    if (next) {
      this.resolved.set(key, next);
      this.values.set(key, next.value);
    } else {
      this.resolved.delete(key);
      this.values.delete(key);
    }
    // The first load is where the client starts, not a change.
    if (this.loaded) this.emit('change', { key, value: next?.value, previous: previous?.value, revision });
  }

  private keyOf(namespace: string, key: string): string {
    return namespace === this.namespace ? key : `${namespace.slice(this.namespace.length + 1)}/${key}`;
  }

  private setStatus(status: ConfigClientStatus): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    this.emit('status', status);
  }

  private emit<E extends keyof ConfigClientEvents>(event: E, payload: ConfigClientEvents[E]): void {
    for (const listener of this.listeners[event]) {
      try {
        listener(payload);
      } catch (error) {
        // A listener's bug must not stop the watch: the values would silently go stale.
        process.emitWarning(`config ${event} listener failed: ${String(error)}`);
      }
    }
  }

  private scheduleSnapshot(): void {
    if (this.options.snapshotFile === undefined || this.snapshotTimer || this.stopping.signal.aborted) return;
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = undefined;
      this.queueSnapshotWrite();
    }, this.options.snapshotDebounceMs ?? DEFAULT_SNAPSHOT_DEBOUNCE_MS);
    this.snapshotTimer.unref();
  }

  private queueSnapshotWrite(): void {
    const snapshot: ConfigSnapshot = {
      format: 1,
      namespace: this.namespace,
      environment: this.environment,
      revision: this.appliedRevision,
      savedAt: new Date().toISOString(),
      keys: Object.fromEntries(this.resolved),
    };
    this.snapshotWrites = this.snapshotWrites
      .then(() => writeSnapshot(this.options.snapshotFile!, snapshot))
      .catch((error: unknown) => process.emitWarning(`config snapshot ${this.options.snapshotFile} not written: ${String(error)}`));
  }

  /** Waits `ms`, or less if the client closes meanwhile. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.stopping.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stopping.signal.addEventListener('abort', done, { once: true });
    });
  }
}

function resolvedKeyOf(entry: ConfigEntryView): ResolvedKey {
  return { namespace: entry.namespace, key: entry.key, environment: entry.environment, version: entry.version, revision: entry.revision, value: entry.value };
}

/** `error.compacted_revision` of a 410's body (the gateway's REVISION_COMPACTED answer), or 0 without one. */
async function compactedRevisionOf(response: Response): Promise<number> {
  try {
    const body = (await response.json()) as { error?: { compacted_revision?: unknown } };
    const compacted = body.error?.compacted_revision;
    return typeof compacted === 'number' && Number.isSafeInteger(compacted) && compacted > 0 ? compacted : 0;
  } catch {
    return 0;
  }
}

function highestRevision(entries: readonly ConfigEntryView[]): number {
  return entries.reduce((highest, entry) => Math.max(highest, entry.revision), 0);
}
