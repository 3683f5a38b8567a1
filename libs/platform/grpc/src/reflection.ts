import { createRequire } from 'node:module';
import { toBinary, type DescFile, type DescService } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { Server } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';

const require = createRequire(import.meta.url);

/** Serves gRPC server reflection (v1 and v1alpha) for `services` and the health service. */
export function addReflection(server: Server, services: readonly DescService[]): void {
  const files = new Map<string, Buffer>();
  const visit = (file: DescFile): void => {
    if (files.has(file.name)) return;
    files.set(file.name, Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)));
    file.dependencies.forEach(visit);
  };
  services.forEach((service) => visit(service.file));
  const definitions: Record<string, { fileDescriptorProtos: Buffer[] }> = {};
  for (const service of services) definitions[service.typeName] = { fileDescriptorProtos: [...files.values()] };
  Object.assign(definitions, healthPackageDefinition());
  new ReflectionService(definitions as never).addToServer(server);
}

/** grpc-health-check ships health.proto; proto-loader (its dependency) turns it into descriptor bytes. */
function healthPackageDefinition(): Record<string, unknown> {
  const protoLoader = require('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
  const { protoPath } = require('grpc-health-check') as { protoPath: string };
  return protoLoader.loadSync(protoPath, { keepCase: true });
}
