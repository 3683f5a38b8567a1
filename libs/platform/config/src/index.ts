export { EnvValidationError, parseEnv, sensitive, type EnvIssue, type EnvSource } from './env-schema.js';
export { booleanFlag, infrastructureEnv, logLevel, port, urlWithScheme } from './env-fields.js';
export { parseEnvFile, readEnvSource } from './env-file.js';
