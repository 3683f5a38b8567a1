export {
  createTestDatabase,
  hashOf,
  migratedTemplate,
  TEST_DATABASE_ADMIN_URL,
  type TestDatabase,
} from './test-database.js';
export { TEST_NATS_URL, TEST_REDIS_URL, uniqueName } from './test-names.js';
export { sleep, waitFor, type WaitForOptions } from './wait-for.js';
export { startAppProcess, type AppProcess } from './app-process.js';
export { deleteJetStreamStreams } from './jetstream-streams.js';
export { NatsServerProcess } from './nats-server-process.js';
export { RedisServerProcess, type RedisServerOptions } from './redis-server-process.js';
export { freePort } from './server-process.js';
export { serviceAppScenarios, type ServiceAppContext, type ServiceAppUnderTest } from './service-app-scenarios.js';
