export { CONFIG_MANAGER, ConfigManagerHost, type ConfigManagerInfrastructure } from './config-manager.host.js';
export { configManagerEnvSchema, loadConfigManagerEnv, type ConfigManagerEnv } from './config-manager.env.js';
