export { GrpcServiceHost, type GrpcServiceHostOptions, type ServiceComponents } from './grpc-service-host.js';
