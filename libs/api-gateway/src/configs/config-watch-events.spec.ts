import { describe, expect, it } from '@jest/globals';
import { create, fromJson } from '@bufbuild/protobuf';
import { timestampFromDate, ValueSchema } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import { ChangeType, Classification, ConfigEntrySchema, WatchConfigsResponseSchema, type WatchConfigsResponse } from '@llmops/contracts';
import { GrpcCallError } from '@llmops/platform-grpc';
import { watchEventOf, watchEvents } from './config-watch-events.js';

const change = (revision: number, deleted = false): WatchConfigsResponse =>
  create(WatchConfigsResponseSchema, {
    type: deleted ? ChangeType.DELETE : ChangeType.PUT,
    revision: BigInt(revision),
    entry: create(ConfigEntrySchema, {
      namespace: 'acme',
      key: 'model',
      environment: 'dev',
      value: deleted ? undefined : fromJson(ValueSchema, 'line 1\nline 2'),
      version: 2n,
      revision: BigInt(revision),
      classification: Classification.PUBLIC,
      updatedBy: 'u-1',
      updatedAt: timestampFromDate(new Date('2025-01-02T03:04:05.006Z')),
      deleted,
    }),
  });

/** An upstream stream the test feeds by hand (a change, a failure, or its end); it remembers whether it was told to stop. */
class FakeChanges implements AsyncIterable<WatchConfigsResponse> {
  returned = false;
  private readonly fed: Array<Promise<IteratorResult<WatchConfigsResponse>>> = [];
  private readonly waiting: Array<(result: Promise<IteratorResult<WatchConfigsResponse>>) => void> = [];

  push(change: WatchConfigsResponse): void {
    this.feed(Promise.resolve({ value: change, done: false }));
  }

  fail(error: Error): void {
    this.feed(Promise.reject(error));
  }

  end(): void {
    this.feed(Promise.resolve({ value: undefined, done: true }));
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchConfigsResponse> {
    return {
      next: () => this.fed.shift() ?? new Promise((resolve) => this.waiting.push(resolve)),
      return: async () => {
        this.returned = true;
        return { value: undefined, done: true };
      },
    };
  }

  private feed(result: Promise<IteratorResult<WatchConfigsResponse>>): void {
    result.catch(() => undefined);
    const reader = this.waiting.shift();
    if (reader) reader(result);
    else this.fed.push(result);
  }
}

const next = async (events: AsyncGenerator<string>): Promise<string | undefined> => (await events.next()).value ?? undefined;

describe('config watch events', () => {
  it(`${watchEventOf.name} frames a change as one SSE event with its revision as id, its data on one line`, () => {
    expect(watchEventOf(change(41))).toBe(
      'id: 41\nevent: put\ndata: {"revision":41,"type":"put","entry":{"namespace":"acme","key":"model","environment":"dev",' +
        '"value":"line 1\\nline 2","version":2,"revision":41,"classification":"public","updated_by":"u-1",' +
        '"updated_at":"2025-01-02T03:04:05.006Z","deleted":false}}\n\n',
    );
    expect(watchEventOf(change(42, true))).toMatch(/^id: 42\nevent: delete\ndata: \{"revision":42,"type":"delete","entry":\{.*"value":null,.*"deleted":true\}\}\n\n$/);
  });

  it(`${watchEvents.name} opens with a comment naming the namespace and the start, then one event per change`, async () => {
    const changes = new FakeChanges();
    const events = watchEvents({ namespace: 'acme/chatbot', startRevision: 0 }, changes);
    expect(await next(events)).toBe(': watching acme/chatbot from revision next\n\n');
    changes.push(change(41));
    changes.push(change(42, true));
    expect(await next(events)).toBe(watchEventOf(change(41)));
    expect(await next(events)).toBe(watchEventOf(change(42, true)));
    changes.end();
    expect(await events.next()).toEqual({ value: undefined, done: true });
    expect(await next(watchEvents({ namespace: 'acme', startRevision: 17 }, new FakeChanges()))).toBe(': watching acme from revision 17\n\n');
  });

  it('sends a keep-alive comment whenever no change came for the interval, and none while changes flow', async () => {
    const changes = new FakeChanges();
    const events = watchEvents({ namespace: 'acme', startRevision: 0 }, changes, 200);
    await next(events);
    for (let revision = 41; revision < 46; revision++) {
      changes.push(change(revision));
      expect(await next(events)).toBe(watchEventOf(change(revision)));
    }
    const idleSince = Date.now();
    expect(await next(events)).toBe(': keep-alive\n\n');
    expect(Date.now() - idleSince).toBeGreaterThanOrEqual(190);
    expect(await next(events)).toBe(': keep-alive\n\n');
    // The change awaited across the keep-alives still arrives.
    changes.push(change(46));
    expect(await next(events)).toBe(watchEventOf(change(46)));
    await events.return(undefined);
  });

  it('ends, without an error, when the upstream fails after the stream started', async () => {
    const changes = new FakeChanges();
    const events = watchEvents({ namespace: 'acme', startRevision: 0 }, changes);
    await next(events);
    changes.push(change(41));
    expect(await next(events)).toBe(watchEventOf(change(41)));
    const reading = events.next();
    changes.fail(new GrpcCallError(status.UNAVAILABLE, 'config-manager went away'));
    expect(await reading).toEqual({ value: undefined, done: true });
    expect(changes.returned).toBe(true);
  });

  it('stops the upstream when the reader stops', async () => {
    const changes = new FakeChanges();
    const events = watchEvents({ namespace: 'acme', startRevision: 0 }, changes);
    await next(events);
    changes.push(change(41));
    await next(events);
    await events.return(undefined);
    expect(changes.returned).toBe(true);
  });
});
