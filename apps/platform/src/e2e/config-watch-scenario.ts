import { expect } from '@jest/globals';
import { waitFor } from '@llmops/platform-testing';
import { call, login, type RunningPlatform } from './platform-harness.js';

const WRITES = 500;
const DROP_AFTER = 200;

interface WatchEvent {
  id: number;
  type: string;
  key: string;
  value: unknown;
}

/** Reads an SSE response until `stop` says so or the stream ends; each event is handed to `onEvent`. */
async function readEvents(response: Response, onEvent: (event: WatchEvent) => void, onComment: (text: string) => void): Promise<void> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) {
          onComment(block.slice(1).trim());
          continue;
        }
        const fields = Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
        const data = JSON.parse(fields.data!) as { revision: number; type: string; entry: { key: string; value: unknown } };
        expect(Number(fields.id)).toBe(data.revision);
        onEvent({ id: data.revision, type: fields.event!, key: data.entry.key, value: data.entry.value });
      }
    }
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
  }
}

/**
 * A watcher over Server-Sent Events loses its connection in the middle of 500 writes and reconnects with
 * Last-Event-ID, as browsers and SSE clients do: it sees every change exactly once, in order.
 */
export async function walkWatchResume(platform: RunningPlatform): Promise<void> {
  const { baseUrl } = platform;
  const token = await login(baseUrl);
  const seen: WatchEvent[] = [];
  // Start from a known revision: "from the next change" would race with the first writes.
  const marker = await call(baseUrl, 'PUT', '/api/v1/configs/sse-walk/marker/start?env=development', { token, body: { value: true } });
  const startRevision = Number(marker.body.revision) + 1;
  const open = async (lastEventId?: number): Promise<{ controller: AbortController; reading: Promise<void>; opened: Promise<void> }> => {
    const controller = new AbortController();
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
    const response = await fetch(`${baseUrl}/api/v1/configs/sse-walk/app/watch?start_revision=${startRevision}`, { headers, signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    let markOpened!: () => void;
    const opened = new Promise<void>((resolve) => (markOpened = resolve));
    const reading = readEvents(response, (event) => seen.push(event), (comment) => comment.startsWith('watching') && markOpened());
    return { controller, reading, opened };
  };

  const first = await open();
  await first.opened;
  const writing = (async () => {
    for (let index = 0; index < WRITES; index++) {
      const response = await call(baseUrl, 'PUT', `/api/v1/configs/sse-walk/app/k${index % 20}?env=development`, { token, body: { value: index } });
      expect(response.status).toBe(200);
    }
  })();
  await waitFor(async () => (seen.length >= DROP_AFTER ? true : undefined), { timeoutMs: 60_000, message: 'the watcher saw too few changes' });
  first.controller.abort();
  await first.reading;
  const second = await open(seen.at(-1)!.id);
  await writing;
  await waitFor(async () => (seen.length >= WRITES ? true : undefined), { timeoutMs: 60_000, message: 'the resumed watcher missed changes' });
  second.controller.abort();
  await second.reading;

  expect(seen).toHaveLength(WRITES);
  const ids = seen.map((event) => event.id);
  expect(new Set(ids).size).toBe(WRITES);
  expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  expect(seen.map((event) => event.value)).toEqual(Array.from({ length: WRITES }, (_, index) => index));
  expect(seen.every((event) => event.type === 'put')).toBe(true);
}
