import { toBinary, type DescFile, type DescService } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { Server } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { service as healthService } from 'grpc-health-check';

const HEALTH_SERVICE = 'grpc.health.v1.Health';

/** Serves gRPC server reflection (v1 and v1alpha) for `services` and the health service. */
export function addReflection(server: Server, services: readonly DescService[]): void {
  const files = new Map<string, Buffer>();
  const visit = (file: DescFile): void => {
    if (files.has(file.name)) return;
    files.set(file.name, Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)));
    file.dependencies.forEach(visit);
  };
  services.forEach((service) => visit(service.file));
  // @grpc/reflection wants a proto-loader PackageDefinition but reads only each entry's `fileDescriptorProtos`
  // (keys are free), so one entry carries all our files. grpc-health-check's own descriptor describes exactly the
  // Health service it implements.
  const packageDefinition = {
    [HEALTH_SERVICE]: healthService.Check!.requestType,
    protobufEs: { fileDescriptorProtos: [...files.values()] },
  } as unknown as ConstructorParameters<typeof ReflectionService>[0];
  // Without the list it would advertise every service of every file, served or not.
  const served = [...services.map((service) => service.typeName), HEALTH_SERVICE];
  new ReflectionService(packageDefinition, { services: served }).addToServer(server);
}
