export { API_GATEWAY, ApiGatewayHost, DEFAULT_ADMIN_EMAIL, type ApiGatewayInfrastructure } from './api-gateway.host.js';
export { apiGatewayEnvSchema, loadApiGatewayEnv, type ApiGatewayEnv } from './api-gateway.env.js';
