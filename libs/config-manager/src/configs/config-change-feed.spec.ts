import { describe, expect, it } from '@jest/globals';
import { ConfigChangeFeed, type ChangeFeedSource } from './config-change-feed.js';
import { ConfigEntryEntity } from './config-entry.entity.js';

/** A committed history in memory, read the way the database is: by revision, in batches. */
class History implements ChangeFeedSource {
  readonly entries: ConfigEntryEntity[] = [];
  reads = 0;
  failNext = false;

  commit(count = 1): number[] {
    const revisions: number[] = [];
    for (let index = 0; index < count; index++) {
      const revision = (this.entries.at(-1)?.revision ?? 0) + 1;
      this.entries.push(Object.assign(new ConfigEntryEntity(), { namespace: 'app', key: `k${revision}`, environment: 'base', revision, version: 1 }));
      revisions.push(revision);
    }
    return revisions;
  }

  async currentRevision(): Promise<number> {
    return this.entries.at(-1)?.revision ?? 0;
  }

  async changesAfter(afterRevision: number, limit: number): Promise<ConfigEntryEntity[]> {
    this.reads++;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('database unavailable');
    }
    return this.entries.filter((entry) => entry.revision > afterRevision).slice(0, limit);
  }
}

const LONG = 600_000;
const revisionsOf = (entries: readonly ConfigEntryEntity[] | undefined) => entries?.map((entry) => entry.revision);
const signal = () => new AbortController().signal;

describe(ConfigChangeFeed.name, () => {
  it('serves every watch from one read per commit, each from its own revision', async () => {
    const history = new History();
    history.commit(3);
    const feed = new ConfigChangeFeed(history, { pollMs: LONG });
    await feed.join();
    await feed.join();
    const readsBefore = history.reads;
    const waits = [feed.waitPast(3, signal()), feed.waitPast(3, signal())];
    history.commit(2);
    feed.wake();
    await Promise.all(waits);
    expect(history.reads - readsBefore).toBe(1);
    expect(feed.since(3)).toEqual({ changes: history.entries.slice(3), scannedTo: 5 });
    expect(revisionsOf(feed.since(4)?.changes)).toEqual([5]);
    expect(feed.since(5)).toEqual({ changes: [], scannedTo: 5 });
    // A watch that started from a revision the feed has not read yet waits for it.
    expect(feed.since(9)).toEqual({ changes: [], scannedTo: 9 });
    // From before the feed joined: only the database has those.
    expect(feed.since(2)).toBeUndefined();
    feed.close();
  });

  it('keeps its newest changes within capacity; a watch behind them reads the database', async () => {
    const history = new History();
    const feed = new ConfigChangeFeed(history, { pollMs: LONG, capacity: 4, batch: 3 });
    await feed.join();
    const wait = feed.waitPast(0, signal());
    history.commit(10);
    feed.wake();
    await wait;
    // Batches of 3 until caught up, then the last 4 kept.
    await new Promise((resolve) => setImmediate(resolve));
    expect(revisionsOf(feed.since(6)?.changes)).toEqual([7, 8, 9, 10]);
    expect(feed.since(5)).toBeUndefined();
    feed.close();
  });

  it('reads nothing while nobody watches, and starts again from the current revision', async () => {
    const history = new History();
    const feed = new ConfigChangeFeed(history, { pollMs: LONG });
    await feed.join();
    feed.leave();
    history.commit(2);
    feed.wake();
    expect(history.reads).toBe(0);
    await feed.join();
    // The changes made while nobody followed are not in memory: a watch from before them reads the database.
    expect(feed.since(0)).toBeUndefined();
    expect(feed.since(2)).toEqual({ changes: [], scannedTo: 2 });
    feed.close();
  });

  it('survives a failed read: the error is reported and the next wake reads again', async () => {
    const history = new History();
    const errors: unknown[] = [];
    const feed = new ConfigChangeFeed(history, { pollMs: LONG, onPollError: (error) => errors.push(error) });
    await feed.join();
    history.commit(1);
    history.failNext = true;
    feed.wake();
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toEqual([new Error('database unavailable')]);
    const wait = feed.waitPast(0, signal());
    feed.wake();
    await wait;
    expect(revisionsOf(feed.since(0)?.changes)).toEqual([1]);
    feed.close();
  });

  it('finds a change nobody announced at its backstop poll', async () => {
    const history = new History();
    const feed = new ConfigChangeFeed(history, { pollMs: 20 });
    await feed.join();
    const wait = feed.waitPast(0, signal());
    history.commit(1);
    await wait;
    expect(revisionsOf(feed.since(0)?.changes)).toEqual([1]);
    feed.close();
  });

  it('keeps its buffer within its byte budget, and frees it once nobody watches', async () => {
    const history = new History();
    const feed = new ConfigChangeFeed(history, { pollMs: LONG, maxBytes: 300, sizeOf: () => 100 });
    await feed.join();
    const wait = feed.waitPast(0, signal());
    history.commit(5);
    feed.wake();
    await wait;
    expect(revisionsOf(feed.since(2)?.changes)).toEqual([3, 4, 5]);
    expect(feed.since(1)).toBeUndefined();
    feed.leave();
    expect(feed.since(4)).toBeUndefined();
    feed.close();
  });

  it('ends a wait on abort and on close', async () => {
    const history = new History();
    const feed = new ConfigChangeFeed(history, { pollMs: LONG });
    await feed.join();
    const controller = new AbortController();
    const aborted = feed.waitPast(0, controller.signal);
    controller.abort();
    await expect(aborted).resolves.toBeUndefined();
    const closing = feed.waitPast(0, signal());
    expect(feed.closed).toBe(false);
    feed.close();
    await expect(closing).resolves.toBeUndefined();
    expect(feed.closed).toBe(true);
  });
});
