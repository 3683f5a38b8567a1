import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { EventEnvelopeSchema, type EventEnvelope } from '@llmops/contracts';

/** Events travel as protobuf binary so every language and version of a consumer reads the same bytes. */
export function encodeEvent(event: EventEnvelope): Uint8Array {
  return toBinary(EventEnvelopeSchema, event);
}

export function decodeEvent(bytes: Uint8Array): EventEnvelope {
  return fromBinary(EventEnvelopeSchema, bytes);
}
