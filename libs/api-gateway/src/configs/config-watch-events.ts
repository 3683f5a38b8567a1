import { status } from '@grpc/grpc-js';
import type { WatchConfigsResponse } from '@llmops/contracts';
import { GrpcCallError } from '@llmops/platform-grpc';
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

/** The 410 body for a watch whose start is compacted: the error envelope, plus where the client may resume. */
export interface RevisionCompactedView {
  error: {
    code: 'REVISION_COMPACTED';
    message: string;
    request_id: string;
    /** Changes up to this revision may be missing: pruned by the namespace's max_versions. */
    compacted_revision: number;
    /** The lowest start_revision (Last-Event-ID + 1) a watch may ask for, after the client has reloaded. */
    oldest_resumable_revision: number;
  };
}

/** config-manager's answer to a watch that starts at or below its compacted revision, or undefined for other errors. */
export function revisionCompactedViewOf(error: unknown, requestId: string): RevisionCompactedView | undefined {
  if (!(error instanceof GrpcCallError) || error.code !== status.OUT_OF_RANGE || error.details['error-code'] !== 'REVISION_COMPACTED') {
    return undefined;
  }
  const compacted = Number(error.details['compacted-revision']);
  if (!Number.isSafeInteger(compacted)) return undefined;
  return {
    error: {
      code: 'REVISION_COMPACTED',
      message: error.message,
      request_id: requestId,
      compacted_revision: compacted,
      oldest_resumable_revision: compacted + 1,
    },
  };
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
