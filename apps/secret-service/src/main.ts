import { SECRET_SERVICE, SecretServiceHost, loadSecretServiceEnv } from '@llmops/secret-service';
import { runApp } from '@llmops/platform-service-host';

await runApp({
  name: SECRET_SERVICE,
  loadEnv: loadSecretServiceEnv,
  infrastructureOf: (env) => env,
  services: (env, infra) => [new SecretServiceHost(env, infra)],
});
