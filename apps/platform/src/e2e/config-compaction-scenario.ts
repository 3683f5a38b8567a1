import { expect } from '@jest/globals';
import { waitFor } from '@llmops/platform-testing';
import { call, login, type RunningPlatform } from './platform-harness.js';

const MAX_VERSIONS = 5;
const WRITES = 20;

/**
 * A namespace keeps its last 5 versions per key: 20 writes leave 5 in history, a rollback to a pruned version is a 404
 * naming the oldest kept one, and a watch resuming from before the pruning gets 410 with the revision to resume from.
 * The client then does what the SDK does: reloads the keys and watches from above the compacted revision, missing nothing.
 */
export async function walkWatchCompaction(platform: RunningPlatform): Promise<void> {
  const { baseUrl } = platform;
  const token = await login(baseUrl);
  const refused = await call(baseUrl, 'PUT', '/api/v1/namespaces/compaction-walk', { token, body: { max_versions: 0 } });
  expect(refused.status).toBe(400);
  expect(refused.body.error.message).toBe('max_versions: must be an integer from 1 to 10000');
  const settings = await call(baseUrl, 'PUT', '/api/v1/namespaces/compaction-walk', { token, body: { max_versions: MAX_VERSIONS } });
  expect(settings.status).toBe(200);
  expect(settings.body.max_versions).toBe(MAX_VERSIONS);
  const inherited = await call(baseUrl, 'GET', '/api/v1/namespaces/compaction-walk/app', { token });
  expect(inherited.body).toMatchObject({ defined_at: 'compaction-walk', max_versions: MAX_VERSIONS });

  const path = '/api/v1/configs/compaction-walk/app/model';
  const revisions: number[] = [];
  for (let index = 1; index <= WRITES; index++) {
    const written = await call(baseUrl, 'PUT', `${path}?env=development`, { token, body: { value: `model-${index}` } });
    expect(written.status).toBe(200);
    revisions.push(written.body.revision);
  }
  const history = await call(baseUrl, 'GET', `${path}/history?env=development&limit=50`, { token });
  expect(history.status).toBe(200);
  expect(history.body.data.map((entry: { version: number }) => entry.version)).toEqual([20, 19, 18, 17, 16]);
  expect(history.body.next_before_version).toBeNull();
  const pruned = await call(baseUrl, 'POST', `${path}/rollback?env=development`, { token, body: { version: 3 } });
  expect(pruned.status).toBe(404);
  expect(pruned.body.error.message).toContain('pruned the versions before 16, the oldest kept version');

  // A client that saw the first write and comes back: the changes since then are no longer all kept.
  const compacted = revisions[WRITES - MAX_VERSIONS - 1]!;
  const stale = await openWatch(baseUrl, token, revisions[0]!);
  expect(stale.status).toBe(410);
  expect(stale.headers.get('content-type')).toContain('application/json');
  const gone = (await stale.json()) as { error: { code: string; message: string; compacted_revision: number; oldest_resumable_revision: number } };
  expect(gone.error).toMatchObject({ code: 'REVISION_COMPACTED', compacted_revision: compacted, oldest_resumable_revision: compacted + 1 });
  expect(gone.error.message).toContain(`watch from revision ${compacted + 1} or later`);

  // The SDK's reload: read the keys afresh, then resume after the newer of what it read and the compacted revision.
  const listing = await call(baseUrl, 'GET', '/api/v1/configs/compaction-walk/app?env=development', { token });
  expect(listing.body.keys).toEqual([expect.objectContaining({ key: 'model', value: `model-${WRITES}`, version: WRITES })]);
  const loadedRevision = Math.max(...listing.body.keys.map((key: { revision: number }) => key.revision));
  const resumed = await openWatch(baseUrl, token, Math.max(loadedRevision, gone.error.compacted_revision));
  expect(resumed.status).toBe(200);
  const events: Array<{ id: number; version: number }> = [];
  const reading = readChanges(resumed, (event) => events.push(event));
  const next = await call(baseUrl, 'PUT', `${path}?env=development`, { token, body: { value: 'after-reload' } });
  await waitFor(() => events.length > 0, { timeoutMs: 10_000, message: 'the resumed watch did not see the next write' });
  await resumed.cancel();
  await reading;
  expect(events).toEqual([{ id: next.body.revision, version: WRITES + 1 }]);
}

interface OpenWatch {
  status: number;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  json(): Promise<unknown>;
  cancel(): Promise<void>;
}

async function openWatch(baseUrl: string, token: string, lastEventId: number): Promise<OpenWatch> {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/api/v1/configs/compaction-walk/watch`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'last-event-id': String(lastEventId) },
    signal: controller.signal,
  });
  return {
    status: response.status,
    headers: response.headers,
    body: response.body,
    json: () => response.json(),
    cancel: async () => controller.abort(),
  };
}

/** Hands over each put/delete event of a watch response until it is cancelled. */
async function readChanges(watch: OpenWatch, onChange: (event: { id: number; version: number }) => void): Promise<void> {
  const reader = watch.body!.pipeThrough(new TextDecoderStream()).getReader();
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
        if (block.startsWith(':')) continue;
        const fields = Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
        const data = JSON.parse(fields.data!) as { revision: number; entry: { version: number } };
        onChange({ id: Number(fields.id), version: data.entry.version });
      }
    }
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
  }
}
