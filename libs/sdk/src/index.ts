export { ConfigClient, type ConfigChange, type ConfigClientOptions, type ConfigClientStatus } from './client/config-client.js';
export type { ReconnectBackoff } from './client/reconnect-delay.js';
export { ConfigApiError, type GatewayConnection } from './http/gateway-http.js';
export { DEFAULT_ENVIRONMENT_CHAIN, resolutionOrder, type ConfigEntryView, type JsonValue } from './http/config-api.js';
export {
  applyPlan,
  exportNamespace,
  MAX_PLAN_OPERATIONS,
  planDirectory,
  type EnvironmentOptions,
  type NamespaceExport,
} from './as-code/config-as-code.js';
export {
  formatPlan,
  hasChanges,
  planChanges,
  valueDifferences,
  type ConfigPlan,
  type LiveValue,
  type NamespaceState,
  type PlannedChange,
  type ValueDifference,
} from './as-code/config-plan.js';
export {
  ConfigFileError,
  parseNamespaceFile,
  readConfigDirectory,
  serializeNamespaceFile,
  writeConfigDirectory,
  type ConfigFileFormat,
  type NamespaceFile,
  type NamespaceValues,
} from './as-code/namespace-file.js';
export { runLlmopsConfig, type CommandIo } from './cli/llmops-config-command.js';
