import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startAppProcess } from './app-process.js';
import { deleteJetStreamStreams } from './jetstream-streams.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { TEST_NATS_URL, uniqueName } from './test-names.js';

export interface ServiceAppUnderTest {
  /** e.g. `config-manager`: the app runs from `dist/apps/<name>/main.js`. */
  name: string;
  /** The prefix of its own variables, e.g. `CONFIG_MANAGER` for CONFIG_MANAGER_GRPC_PORT / _OPS_PORT. */
  envPrefix: string;
  /** The repository root, where `dist/` is. */
  root: string;
}

export interface ServiceAppContext {
  script: string;
  database(): TestDatabase;
  /** Environment for a run on the shared PostgreSQL and NATS, on its own stream, with ephemeral ports. */
  runEnvironment(extra?: Record<string, string>): Record<string, string>;
}

/**
 * What every gRPC service app must do as an operator runs it: refuse an invalid environment naming each bad
 * variable, and run alone on PostgreSQL and NATS until SIGTERM stops it cleanly. Call inside a `describe`.
 */
export function serviceAppScenarios(app: ServiceAppUnderTest): ServiceAppContext {
  const script = join('dist', 'apps', app.name, 'main.js');
  const streams: string[] = [];
  let database: TestDatabase | undefined;

  beforeAll(async () => {
    database = await createTestDatabase({ prefix: `app_${app.envPrefix.toLowerCase()}` });
  });

  afterAll(async () => {
    await database?.drop();
    await deleteJetStreamStreams(streams);
  });

  const context: ServiceAppContext = {
    script,
    database: () => {
      if (!database) throw new Error('the test database is created in beforeAll');
      return database;
    },
    runEnvironment: (extra = {}) => {
      const subjects = uniqueName(`app_${app.envPrefix.toLowerCase()}`);
      streams.push(subjects.toUpperCase());
      return {
        DATABASE_URL: context.database().url,
        NATS_URL: TEST_NATS_URL,
        NATS_STREAM: subjects.toUpperCase(),
        NATS_SUBJECT_ROOT: subjects,
        [`${app.envPrefix}_GRPC_PORT`]: '0',
        [`${app.envPrefix}_OPS_PORT`]: '0',
        LOG_LEVEL: 'info',
        ...extra,
      };
    },
  };

  it('refuses to start on an invalid environment and names each bad variable', async () => {
    const process = startAppProcess(script, { [`${app.envPrefix}_GRPC_PORT`]: 'fifty', DATABASE_URL: 'mysql://db' }, app.root);
    expect(await process.exited()).toBe(1);
    expect(process.output()).toContain(`Invalid environment for ${app.name}`);
    expect(process.output()).toMatch(new RegExp(`${app.envPrefix}_GRPC_PORT: .*\\(got "fifty"\\)`));
    expect(process.output()).toMatch(/DATABASE_URL: must be a URL with scheme postgres/);
  });

  it('runs alone on PostgreSQL and NATS, then stops cleanly on SIGTERM', async () => {
    const process = startAppProcess(script, context.runEnvironment(), app.root);
    try {
      await process.waitForOutput(new RegExp(`${app.name} started`));
      expect(await process.stop('SIGTERM')).toBe(0);
      expect(process.output()).toMatch(/shutting down/);
    } finally {
      // Still running only if an expectation failed; afterAll deletes its stream, which it must not recreate.
      await process.stop('SIGKILL');
    }
  });

  return context;
}
