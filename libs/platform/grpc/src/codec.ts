import { create, fromBinary, toBinary, type DescMethod, type DescService } from '@bufbuild/protobuf';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

/** grpc-js method definitions whose (de)serializers are the protobuf-es codecs of the generated descriptors. */
export function methodDefinition(service: DescService, method: DescMethod): MethodDefinition<unknown, unknown> {
  return {
    path: `/${service.typeName}/${method.name}`,
    originalName: method.localName,
    requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
    responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
    requestSerialize: (message: unknown) => Buffer.from(toBinary(method.input, create(method.input, message as never))),
    requestDeserialize: (bytes: Buffer) => fromBinary(method.input, bytes),
    responseSerialize: (message: unknown) => Buffer.from(toBinary(method.output, create(method.output, message as never))),
    responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
  };
}

export function serviceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) definition[method.localName] = methodDefinition(service, method);
  return definition;
}
