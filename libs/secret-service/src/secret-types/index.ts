export { MAX_SECRET_VALUE_BYTES, maskSecretValue, parseSecretValue } from './secret-value.js';
export type { ParsedSecretValue } from './secret-type-definition.js';
