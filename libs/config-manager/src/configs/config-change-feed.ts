import type { ConfigEntryEntity } from './config-entry.entity.js';

/** Where the feed reads committed changes from: the database, in revision order. */
export interface ChangeFeedSource {
  /** The highest revision committed so far. */
  currentRevision(): Promise<number>;
  /** Committed changes with revision > `afterRevision`, ascending, at most `limit`. */
  changesAfter(afterRevision: number, limit: number): Promise<ConfigEntryEntity[]>;
}

export interface ChangeFeedOptions {
  /** Recent changes kept in memory; a watch further behind reads the database until it catches up. */
  capacity?: number;
  /** Backstop poll while watches wait, for a commit announcement that was lost or late. */
  pollMs?: number;
  /** Rows per database read. */
  batch?: number;
  /** Memory the buffered changes may take, by their values' JSON size; the oldest go first. */
  maxBytes?: number;
  /** The memory one change takes (default: its value's JSON length plus a fixed overhead). */
  sizeOf?: (entry: ConfigEntryEntity) => number;
  onPollError?: (error: unknown) => void;
}

/** Changes after a revision, from memory: `scannedTo` is where the next call starts. */
export interface FeedSlice {
  changes: ConfigEntryEntity[];
  scannedTo: number;
}

export const DEFAULT_FEED_CAPACITY = 4_096;
export const DEFAULT_FEED_POLL_MS = 200;
/** Values may be up to 512 KiB each: the count alone would not bound the buffer. */
export const DEFAULT_FEED_MAX_BYTES = 64 * 1024 * 1024;
const ENTRY_OVERHEAD_BYTES = 256;
const DEFAULT_FEED_BATCH = 500;

/**
 * The committed changes of every namespace as one replica sees them, shared by all its watches (as etcd's watchable
 * store): a commit costs one database read per replica however many clients watch, and a waiting watch costs no
 * query at all. Revisions are taken under one row lock held to commit, so commit order is revision order and a scan
 * past revision r has seen every change up to r.
 *
 * The feed reads only while some watch is joined; a feed nobody followed forgets its buffer and starts again from the
 * current revision, so a watch from an older revision reads the database until it reaches the buffer.
 */
export class ConfigChangeFeed {
  private readonly capacity: number;
  private readonly pollMs: number;
  private readonly batch: number;
  private readonly maxBytes: number;
  private readonly sizeOf: (entry: ConfigEntryEntity) => number;
  /** Changes with revision in (floor, head], ascending, with the memory each takes. */
  private buffer: ConfigEntryEntity[] = [];
  private sizes: number[] = [];
  private bytes = 0;
  private floor = 0;
  private head = 0;
  /** False until the first join, and again once every watch has left: the buffer may miss changes since. */
  private live = false;
  private starting: Promise<void> | undefined;
  private members = 0;
  private polling = false;
  private pollAgain = false;
  private readonly waiters = new Set<() => void>();
  private backstop: NodeJS.Timeout | undefined;
  private isClosed = false;

  constructor(
    private readonly source: ChangeFeedSource,
    private readonly options: ChangeFeedOptions = {},
  ) {
    this.capacity = options.capacity ?? DEFAULT_FEED_CAPACITY;
    this.pollMs = options.pollMs ?? DEFAULT_FEED_POLL_MS;
    this.batch = options.batch ?? DEFAULT_FEED_BATCH;
    this.maxBytes = options.maxBytes ?? DEFAULT_FEED_MAX_BYTES;
    this.sizeOf = options.sizeOf ?? ((entry) => ENTRY_OVERHEAD_BYTES + (JSON.stringify(entry.value)?.length ?? 0));
  }

  /** After close(): watches end rather than wait. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** A watch follows the feed between join() and leave(). */
  async join(): Promise<void> {
    this.members++;
    if (!this.backstop && !this.isClosed) {
      this.backstop = setInterval(() => this.wake(), this.pollMs);
      this.backstop.unref();
    }
    try {
      if (!this.live) await (this.starting ??= this.restart());
    } catch (error) {
      this.leave();
      throw error;
    }
  }

  leave(): void {
    this.members = Math.max(0, this.members - 1);
    if (this.members > 0) return;
    clearInterval(this.backstop);
    this.backstop = undefined;
    // Nobody follows: stop reading, free the buffer, and start afresh once reads resume.
    this.live = false;
    this.clearBuffer();
  }

  /**
   * The changes after `afterRevision` held in memory, or undefined when the feed no longer holds them all (the watch
   * then reads the database). Ahead of the feed (a start read from the database), nothing yet.
   */
  since(afterRevision: number): FeedSlice | undefined {
    if (!this.live || afterRevision < this.floor) return undefined;
    if (afterRevision >= this.head) return { changes: [], scannedTo: afterRevision };
    return { changes: this.buffer.slice(this.firstAfter(afterRevision)), scannedTo: this.head };
  }

  /** Resolves once the feed moves past `afterRevision`, or on abort or close. */
  waitPast(afterRevision: number, signal: AbortSignal): Promise<void> {
    if (this.head > afterRevision || signal.aborted || this.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }

  /** A commit here, or one another replica announced: read what it added, if anyone is watching. */
  wake(): void {
    if (!this.live || this.members === 0) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    void this.readNewChanges().finally(() => {
      this.polling = false;
    });
  }

  close(): void {
    this.isClosed = true;
    clearInterval(this.backstop);
    this.backstop = undefined;
    this.release();
  }

  private async restart(): Promise<void> {
    try {
      const current = await this.source.currentRevision();
      this.clearBuffer();
      this.floor = current;
      this.head = current;
      this.live = this.members > 0;
    } finally {
      this.starting = undefined;
    }
  }

  private async readNewChanges(): Promise<void> {
    do {
      this.pollAgain = false;
      let rows: ConfigEntryEntity[];
      try {
        rows = await this.source.changesAfter(this.head, this.batch);
      } catch (error) {
        this.options.onPollError?.(error);
        return;
      }
      // Left meanwhile: the rows may follow a head a restart has moved.
      if (!this.live) return;
      this.append(rows);
      if (rows.length === this.batch) this.pollAgain = true;
      if (rows.length > 0) this.release();
    } while (this.pollAgain && this.live);
  }

  private append(rows: ConfigEntryEntity[]): void {
    for (const row of rows) {
      if (row.revision <= this.head) continue;
      const size = this.sizeOf(row);
      this.buffer.push(row);
      this.sizes.push(size);
      this.bytes += size;
      this.head = row.revision;
    }
    let evicted = 0;
    while (evicted < this.buffer.length && (this.buffer.length - evicted > this.capacity || this.bytes > this.maxBytes)) {
      this.bytes -= this.sizes[evicted]!;
      evicted++;
    }
    if (evicted > 0) {
      this.floor = this.buffer[evicted - 1]!.revision;
      this.buffer = this.buffer.slice(evicted);
      this.sizes = this.sizes.slice(evicted);
    }
  }

  private clearBuffer(): void {
    this.buffer = [];
    this.sizes = [];
    this.bytes = 0;
  }

  /** Wakes every waiting watch; each checks what it has not seen yet. */
  private release(): void {
    for (const done of [...this.waiters]) done();
  }

  /** Index of the first buffered change with revision > `afterRevision` (binary search: the buffer is ascending). */
  private firstAfter(afterRevision: number): number {
    let low = 0;
    let high = this.buffer.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.buffer[middle]!.revision <= afterRevision) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
