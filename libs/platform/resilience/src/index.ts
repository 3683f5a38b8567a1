export {
  BreakerOpenError,
  BreakerTimeoutError,
  createBreaker,
  type Breaker,
  type BreakerOptions,
  type BreakerState,
} from './breaker.js';
export { retry, type RetryOptions } from './retry.js';
