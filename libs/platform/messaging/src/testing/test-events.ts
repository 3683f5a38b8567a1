import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { EventEnvelopeSchema } from '@llmops/contracts';
import { encodeEvent } from '../event-codec.js';

export interface TestEvent {
  id: string;
  subject: string;
  bytes: Uint8Array;
}

/** An encoded envelope with `payload.n`, ready to publish on `natsSubject`. */
export function testEvent(natsSubject: string, n: number): TestEvent {
  const id = randomUUID();
  const envelope = create(EventEnvelopeSchema, {
    id,
    type: natsSubject.split('.').slice(2).join('.'),
    source: 'test',
    subject: `items/${n}`,
    time: timestampNow(),
    payload: { n },
  });
  return { id, subject: natsSubject, bytes: encodeEvent(envelope) };
}
