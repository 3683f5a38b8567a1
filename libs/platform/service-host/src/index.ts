export { GrpcServiceHost, type GrpcServiceHostOptions, type ServiceComponents } from './grpc-service-host.js';
export { composeApp, runApp, type AppInfrastructure, type AppInfrastructureEnv, type RunAppOptions } from './run-app.js';
