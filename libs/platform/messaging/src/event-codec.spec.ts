import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from '@jest/globals';
import { EventEnvelopeSchema } from '@llmops/contracts';
import { decodeEvent, encodeEvent } from './event-codec.js';

describe('event codec', () => {
  it('round-trips an envelope with actor and a JSON payload', () => {
    const envelope = create(EventEnvelopeSchema, {
      id: '6f1d1f9e-0000-4000-8000-000000000001',
      type: 'config.updated',
      source: 'config-manager',
      subject: 'configs/acme/app/model',
      time: timestampFromDate(new Date('2026-01-02T03:04:05Z')),
      actor: { id: 'u1', type: 'user', ipAddress: '10.0.0.1' },
      payload: { version: 3, tags: ['a', 'b'], nested: { enabled: true, note: null } },
      correlationId: 'req-1',
    });

    const decoded = decodeEvent(encodeEvent(envelope));

    expect(decoded).toEqual(envelope);
  });

  it('rejects bytes that are not an envelope', () => {
    expect(() => decodeEvent(new Uint8Array([0xff, 0xff, 0xff]))).toThrow();
  });
});
