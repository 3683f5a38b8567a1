import { create, fromBinary, toBinary, type DescMethod, type DescService } from '@bufbuild/protobuf';
import type { MethodDefinition } from '@grpc/grpc-js';

/**
 * What the server-side deserializer yields for bytes that are not a valid request message. grpc-js answers
 * INTERNAL when a deserializer throws, so decoding failures are carried to the handler wrapper instead, which
 * answers INVALID_ARGUMENT.
 */
export class UndecodableRequest {
  constructor(readonly cause: unknown) {}
}

/** grpc-js method definition whose (de)serializers are the protobuf-es codecs of the generated descriptor. */
export function methodDefinition(service: DescService, method: DescMethod): MethodDefinition<unknown, unknown> {
  return {
    path: `/${service.typeName}/${method.name}`,
    originalName: method.localName,
    requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
    responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
    // `create` accepts a message or its init shape; the typed client/server APIs guarantee which schema.
    requestSerialize: (message: unknown) => Buffer.from(toBinary(method.input, create(method.input, message as never))),
    requestDeserialize: (bytes: Buffer) => {
      try {
        return fromBinary(method.input, bytes);
      } catch (error) {
        return new UndecodableRequest(error);
      }
    },
    responseSerialize: (message: unknown) => Buffer.from(toBinary(method.output, create(method.output, message as never))),
    responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
  };
}
