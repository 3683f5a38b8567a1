export { createGrpcClient, type GrpcClientOptions } from './grpc-client.js';
export { GrpcCallError, GrpcStatusError, MAX_STATUS_TEXT } from './grpc-errors.js';
export type { GrpcLogger } from './grpc-logger.js';
export { GrpcServer, type GrpcServerOptions } from './grpc-server.js';
export type { CallContext, CallOptions, GrpcClient, ServiceImplementation } from './service-types.js';
