export { AuthException, AuthExceptionCode } from './exceptions/auth.exception.js';

export { PRINCIPAL_TYPES, bindingsOf, type Principal, type PrincipalType } from './principal/principal.js';
export {
  PRINCIPAL_METADATA,
  principalFromMetadata,
  principalToMetadata,
  type ClientInfo,
} from './principal/principal-metadata.js';

export { ROLES, isRole, parseRoles, type Role } from './rbac/roles.js';
export { PERMISSIONS, describePermission, isPermission, type Permission } from './rbac/permissions.js';
export { parseRoleBindings } from './principal/principal.schema.js';
export { ROLE_GRANTS, permissionsOfRole, type PermissionGrant } from './rbac/role-grants.js';
export {
  isTimeZone,
  parseCidr,
  unmetCondition,
  type BindingConditions,
  type ConditionContext,
  type RoleBinding,
  type TimeWindow,
} from './rbac/role-binding.js';
export {
  authorize,
  permissionsOf,
  type AuthorizationContext,
  type AuthorizationDecision,
} from './rbac/authorize.js';

export {
  DUMMY_PASSWORD_HASH,
  PASSWORD_HASH_OPTIONS,
  hashPassword,
  verifyPassword,
  verifyPasswordOrDummy,
} from './passwords/password-hasher.js';

export {
  TokenService,
  type AccessTokenClaims,
  type IssueOptions,
  type JsonWebKeySet,
  type RefreshTokenClaims,
  type TokenPair,
  type TokenServiceOptions,
} from './tokens/token.service.js';

export {
  DEFAULT_API_KEY_PREFIX,
  generateApiKey,
  hashApiKeySecret,
  parseApiKey,
  verifyApiKeySecret,
  type ApiKeyOptions,
  type GeneratedApiKey,
  type ParsedApiKey,
} from './api-keys/api-key.js';

export type { RateLimiter, RateLimitResult, SlidingWindowOptions } from './rate-limit/rate-limiter.js';
export {
  InMemorySlidingWindowRateLimiter,
  type InMemorySlidingWindowOptions,
} from './rate-limit/in-memory-sliding-window.rate-limiter.js';
export {
  RedisSlidingWindowRateLimiter,
  type RateLimiterLogger,
  type RedisSlidingWindowOptions,
} from './rate-limit/redis-sliding-window.rate-limiter.js';
