import { CONFIG_MANAGER, ConfigManagerHost, loadConfigManagerEnv } from '@llmops/config-manager';
import { runApp } from '@llmops/platform-service-host';

await runApp({
  name: CONFIG_MANAGER,
  loadEnv: loadConfigManagerEnv,
  infrastructureOf: (env) => env,
  services: (env, infra) => [new ConfigManagerHost(env, infra)],
});
