/** Life cycle of a hosted service, after seed 004's state machine. */
export type ServiceState = 'initializing' | 'running' | 'degraded' | 'failed' | 'shutting_down' | 'stopped';

export interface HealthReport {
  healthy: boolean;
  detail?: string;
}

/**
 * One unit the service manager starts, watches and stops (a database pool, a gRPC server, a relay …).
 * `start()` must clean up after itself when it rejects: the manager calls `stop()` only on started services.
 */
export interface HostedService {
  readonly name: string;
  /** Names of services that must be running before this one starts. */
  readonly dependsOn: readonly string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): Promise<HealthReport>;
  /** Re-read configuration in place after SIGHUP, once the new environment has validated. */
  reload?(): Promise<void>;
}
