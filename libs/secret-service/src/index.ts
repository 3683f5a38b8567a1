export { SECRET_SERVICE, SECRET_SERVICE_MIGRATIONS, SecretServiceHost, type SecretServiceInfrastructure } from './secret-service.host.js';
export { loadSecretServiceEnv, secretServiceEnvSchema, type SecretServiceEnv } from './secret-service.env.js';
export { SecretException, SecretExceptionCode } from './secrets/exceptions/secret.exception.js';
