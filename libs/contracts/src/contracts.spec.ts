import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate, timestampDate } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from '@jest/globals';
import { ConfigService, EventEnvelopeSchema, eventSubject } from './index.js';

describe('contracts', () => {
  it('round-trips an event envelope through the wire format', () => {
    const time = new Date('2026-01-02T03:04:05.678Z');
    const envelope = create(EventEnvelopeSchema, {
      id: '0f6e7b1c-0000-4000-8000-000000000001',
      type: 'config.updated',
      source: 'config-manager',
      subject: 'configs/acme/app/model',
      time: timestampFromDate(time),
      actor: { id: 'u1', type: 'user' },
      payload: { version: 3 },
    });
    const decoded = fromBinary(EventEnvelopeSchema, toBinary(EventEnvelopeSchema, envelope));
    expect(decoded.id).toBe(envelope.id);
    expect(decoded.actor?.type).toBe('user');
    expect(decoded.payload).toEqual({ version: 3 });
    expect(timestampDate(decoded.time!).toISOString()).toBe(time.toISOString());
  });

  it('describes ConfigService with the server-streaming watch of seed 001', () => {
    expect(ConfigService.typeName).toBe('llmops.config.v1.ConfigService');
    expect(ConfigService.method.watchConfigs.methodKind).toBe('server_streaming');
    expect(ConfigService.method.getConfig.methodKind).toBe('unary');
  });

  it('builds subjects per source and type', () => {
    expect(eventSubject('config-manager', 'config.updated')).toBe('events.config-manager.config.updated');
  });
});
