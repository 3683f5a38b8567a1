import type { WatchConfigsResponse } from '@llmops/contracts';
import { configChangeViewOf } from './config-views.js';

export const SERVER_SENT_EVENTS = 'text/event-stream; charset=utf-8';
/** Proxies and load balancers drop a connection that stays silent for a minute or so. */
export const WATCH_KEEP_ALIVE_MS = 15_000;

const KEEP_ALIVE = ': keep-alive\n\n';
const IDLE = Symbol('idle');

export interface WatchStart {
  namespace: string;
  /** The first revision delivered; 0 for the next change. */
  startRevision: number;
}

/** A change as a Server-Sent Event; its id, the revision, is what a reconnecting client sends back as Last-Event-ID. */
export function watchEventOf(change: WatchConfigsResponse): string {
  const view = configChangeViewOf(change);
  return `id: ${view.revision}\nevent: ${view.type}\ndata: ${JSON.stringify(view)}\n\n`;
}

/**
 * The text of a watch response: a comment saying it is open, then one event per change, with a keep-alive comment
 * whenever no change came for `keepAliveMs`. Ends when the changes do: an upstream failure ends the response (the
 * client reconnects with Last-Event-ID) rather than cutting it, since no event is ever sent in part.
 */
export async function* watchEvents(
  start: WatchStart,
  changes: AsyncIterable<WatchConfigsResponse>,
  keepAliveMs = WATCH_KEEP_ALIVE_MS,
): AsyncGenerator<string> {
  yield `: watching ${start.namespace} from revision ${start.startRevision === 0 ? 'next' : start.startRevision}\n\n`;
  const iterator = changes[Symbol.asyncIterator]();
  try {
    let next = iterator.next();
    for (;;) {
      const result = await nextOrIdle(next, keepAliveMs);
      if (result === IDLE) {
        yield KEEP_ALIVE;
        continue;
      }
      if (result.done) return;
      yield watchEventOf(result.value);
      next = iterator.next();
    }
  } catch {
    // The upstream failed, or was cancelled because the client went away or the gateway is stopping: the response ends.
  } finally {
    // Also reached when the reader stops at a yield: the upstream call is cancelled, not left running.
    await iterator.return?.();
  }
}

/** The next change, or IDLE once `ms` pass without one (the change is still awaited on the next call). */
async function nextOrIdle<T>(next: Promise<T>, ms: number): Promise<T | typeof IDLE> {
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<typeof IDLE>((resolve) => {
    timer = setTimeout(resolve, ms, IDLE);
  });
  try {
    return await Promise.race([next, idle]);
  } finally {
    clearTimeout(timer);
  }
}
