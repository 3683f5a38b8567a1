export type { HealthReport, HostedService, ServiceState } from './hosted-service.js';
export { runServices, type ProcessSignals, type RunOptions, type RunningServices } from './run-services.js';
export { ServiceManager, ServiceStartError, type ServiceManagerOptions } from './service-manager.js';
export { DependencyCycleError, resolveStartOrder, UnknownDependencyError } from './start-order.js';
