import { describe, expect, it } from '@jest/globals';
import { readServerSentEvents, type ServerSentEvent } from './server-sent-events.js';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function eventsOf(chunks: string[]): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  for await (const event of readServerSentEvents(streamOf(chunks))) events.push(event);
  return events;
}

describe(readServerSentEvents.name, () => {
  it('dispatches events split across chunks and line endings, skipping comments', async () => {
    const events = await eventsOf([': watching a from revision next\n\nid: 7\nevent: pu', 't\r', '\ndata: {"a":\ndata: 1}\r\n\r\n', ': keep-alive\n\nid: 8\nevent: delete\ndata: x\n\n']);
    expect(events).toEqual([
      { type: 'put', data: '{"a":\n1}', id: '7' },
      { type: 'delete', data: 'x', id: '8' },
    ]);
  });

  it('drops an event cut off before its blank line', async () => {
    expect(await eventsOf(['id: 1\nevent: put\ndata: {}\n\nid: 2\nevent: put\ndata: {'])).toEqual([{ type: 'put', data: '{}', id: '1' }]);
  });
});
