/** One dispatched Server-Sent Event; `type` is "message" when the event named none. */
export interface ServerSentEvent {
  type: string;
  data: string;
  id: string | undefined;
}

/**
 * The events of a text/event-stream body, as the WHATWG parsing rules dispatch them: `data` lines joined by newlines,
 * comments dropped, an event without data never dispatched. Ends with the body; a trailing event without its blank line
 * is dropped, since a cut connection may have cut it short.
 */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let data: string[] = [];
  let type = '';
  let id: string | undefined;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let lineEnd: RegExpExecArray | null;
      // A lone \r at the end of the buffer may be half of \r\n: wait for the next chunk before reading that line.
      while ((lineEnd = /\r\n|\n|\r(?!$)/.exec(buffer)) !== null) {
        const line = buffer.slice(0, lineEnd.index);
        buffer = buffer.slice(lineEnd.index + lineEnd[0].length);
        if (line === '') {
          if (data.length > 0) yield { type: type || 'message', data: data.join('\n'), id };
          data = [];
          type = '';
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const fieldValue = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(fieldValue);
        else if (field === 'event') type = fieldValue;
        else if (field === 'id' && !fieldValue.includes('\0')) id = fieldValue;
      }
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => undefined);
  }
}
