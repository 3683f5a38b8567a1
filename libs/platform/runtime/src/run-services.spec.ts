import { EventEmitter } from 'node:events';
import { describe, expect, it, jest } from '@jest/globals';
import { EnvValidationError, parseEnv, port, type EnvSource } from '@llmops/platform-config';
import { createLogger } from '@llmops/platform-observability';
import { z } from 'zod';
import type { HostedService } from './hosted-service.js';
import { runServices, type ProcessSignals, type RunOptions } from './run-services.js';

const logger = createLogger({ service: 'test', version: '0.0.0', level: 'silent', pretty: false });

const schema = z.object({ DB_PORT: port(5432) });
type Env = z.infer<typeof schema>;

interface Harness {
  process: ProcessSignals & EventEmitter;
  stderr: string[];
  exit: jest.Mock<(code: number) => void>;
  exited: Promise<number>;
  journal: string[];
  source: EnvSource;
  builtWith: Env[];
  options: RunOptions<Env>;
}

/** A fake process (signals + stderr), an exit spy and three services: db, cache (reloadable), api. */
function harness(source: EnvSource = {}): Harness {
  const stderr: string[] = [];
  const fakeProcess = Object.assign(new EventEmitter(), { stderr: { write: (text: string) => stderr.push(text) } });
  let onExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (onExit = resolve));
  const exit = jest.fn((code: number) => onExit(code));
  const journal: string[] = [];
  const builtWith: Env[] = [];

  const service = (name: string, dependsOn: string[], reloadable: boolean): HostedService => ({
    name,
    dependsOn,
    start: async () => void journal.push(`start ${name}`),
    stop: async () => void journal.push(`stop ${name}`),
    health: async () => ({ healthy: true }),
    ...(reloadable ? { reload: async () => void journal.push(`reload ${name}`) } : {}),
  });

  const options: RunOptions<Env> = {
    name: 'test-app',
    loadEnv: () => parseEnv('test-app', schema, source),
    services: (env) => {
      builtWith.push(env);
      return [service('api', ['db', 'cache'], false), service('db', [], false), service('cache', [], true)];
    },
    logger,
    process: fakeProcess,
    exit,
  };
  return { process: fakeProcess, stderr, exit, exited, journal, source, builtWith, options };
}

/** Lets queued promise callbacks (signal handlers are fire-and-forget) run to completion. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 10; turn += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe(runServices.name, () => {
  it('starts the services in dependency order and runs the health monitor', async () => {
    const h = harness();
    const running = await runServices(h.options);
    expect(h.journal).toEqual(['start db', 'start cache', 'start api']);
    expect(running.manager.states()).toEqual({ api: 'running', db: 'running', cache: 'running' });
    await running.stop();
    expect(h.exit).not.toHaveBeenCalled();
    expect(h.process.listenerCount('SIGTERM') + h.process.listenerCount('SIGHUP')).toBe(0);
  });

  it('prints an invalid environment to stderr and exits 1 without starting anything', async () => {
    const h = harness({ DB_PORT: 'not-a-port' });
    await expect(runServices(h.options)).rejects.toBeInstanceOf(EnvValidationError);
    expect(h.exit).toHaveBeenCalledWith(1);
    expect(h.stderr.join('')).toContain('DB_PORT');
    expect(h.journal).toEqual([]);
  });

  it('exits 1 when a service fails to start', async () => {
    const h = harness();
    const services = h.options.services;
    h.options.services = (env) =>
      services(env).map((s) => (s.name === 'cache' ? { ...s, start: () => Promise.reject(new Error('refused')) } : s));
    await expect(runServices(h.options)).rejects.toThrow('service "cache" failed to start: refused');
    expect(h.exit).toHaveBeenCalledWith(1);
    expect(h.journal).toEqual(['start db', 'stop db']);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('on %s stops in reverse order, then exits 0', async (signal) => {
    const h = harness();
    await runServices(h.options);
    h.journal.length = 0;

    h.process.emit(signal);
    expect(await h.exited).toBe(0);
    expect(h.journal).toEqual(['stop api', 'stop cache', 'stop db']);
    expect(h.exit).toHaveBeenCalledTimes(1);
  });

  it('runs the after-stop hook once every service stopped, before exiting', async () => {
    const h = harness();
    await runServices({ ...h.options, onStopped: async () => void h.journal.push('flushed') });
    h.journal.length = 0;

    h.process.emit('SIGTERM');
    expect(await h.exited).toBe(0);
    expect(h.journal).toEqual(['stop api', 'stop cache', 'stop db', 'flushed']);
  });

  it('forces exit 1 on a second signal while stopping', async () => {
    const h = harness();
    const services = h.options.services;
    h.options.services = (env) =>
      services(env).map((s) => (s.name === 'api' ? { ...s, stop: () => new Promise<void>(() => undefined) } : s));
    h.options.manager = { stopTimeoutMs: 50 };
    const running = await runServices(h.options);

    h.process.emit('SIGTERM');
    await settle();
    expect(h.exit).not.toHaveBeenCalled();
    h.process.emit('SIGINT');
    expect(h.exit).toHaveBeenCalledWith(1);
    expect(running.manager.states()['api']).toBe('shutting_down');
    await running.stop();
  });

  it('on SIGHUP with an invalid environment keeps the current configuration and reloads nothing', async () => {
    const h = harness({ DB_PORT: '6000' });
    const running = await runServices(h.options);

    h.source['DB_PORT'] = '70000';
    h.process.emit('SIGHUP');
    await settle();

    expect(h.journal.filter((entry) => entry.startsWith('reload'))).toEqual([]);
    expect(h.builtWith).toEqual([{ DB_PORT: 6000 }]);
    expect(running.manager.states()).toEqual({ api: 'running', db: 'running', cache: 'running' });
    expect(h.exit).not.toHaveBeenCalled();
    await running.stop();
  });

  it('on SIGHUP with a valid environment reloads the services that support it', async () => {
    const h = harness({ DB_PORT: '6000' });
    const running = await runServices(h.options);

    h.source['DB_PORT'] = '6001';
    h.process.emit('SIGHUP');
    await settle();

    expect(h.journal.filter((entry) => entry.startsWith('reload'))).toEqual(['reload cache']);
    await running.stop();
  });

  it('hands a valid reloaded environment to the app before the services reload, and an invalid one to nobody', async () => {
    const h = harness({ DB_PORT: '6000' });
    const applied: unknown[] = [];
    const running = await runServices({
      ...h.options,
      onReload: (env) => {
        applied.push(env.DB_PORT);
        h.journal.push('app reload');
      },
    });
    h.journal.length = 0;

    h.source['DB_PORT'] = 'not-a-port';
    h.process.emit('SIGHUP');
    await settle();
    expect(applied).toEqual([]);

    h.source['DB_PORT'] = '6001';
    h.process.emit('SIGHUP');
    await settle();
    expect(applied).toEqual([6001]);
    expect(h.journal).toEqual(['app reload', 'reload cache']);
    await running.stop();
  });
});
