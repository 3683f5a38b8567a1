import { API_GATEWAY, ApiGatewayHost, loadApiGatewayEnv } from '@llmops/api-gateway';
import { runApp } from '@llmops/platform-service-host';

await runApp({
  name: API_GATEWAY,
  loadEnv: loadApiGatewayEnv,
  infrastructureOf: (env) => env,
  services: (env, infra) => [new ApiGatewayHost(env, infra)],
});
