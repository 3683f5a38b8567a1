import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { createLogger } from '@llmops/platform-observability';
import { Registry } from 'prom-client';
import type { HealthReport, HostedService } from './hosted-service.js';
import { ServiceManager, ServiceStartError, type ServiceManagerOptions } from './service-manager.js';

const logger = createLogger({ service: 'test', version: '0.0.0', level: 'silent', pretty: false });

interface FakeService extends HostedService {
  healthy: boolean;
  failStart: boolean;
}

/** A service that records start/stop/health calls into a shared journal. */
function fake(name: string, journal: string[], dependsOn: string[] = []): FakeService {
  const service: FakeService = {
    name,
    dependsOn,
    healthy: true,
    failStart: false,
    start: async () => {
      journal.push(`start ${name}`);
      if (service.failStart) throw new Error(`${name} cannot connect`);
    },
    stop: async () => {
      journal.push(`stop ${name}`);
    },
    health: async (): Promise<HealthReport> => {
      journal.push(`health ${name}`);
      return service.healthy ? { healthy: true } : { healthy: false, detail: 'connection lost' };
    },
  };
  return service;
}

/** Seed 004's example graph, registered in its order. */
function seedGraph(journal: string[]): Record<string, FakeService> {
  return {
    storage: fake('storage', journal),
    collector: fake('collector', journal),
    integrations: fake('integrations', journal),
    processor: fake('processor', journal, ['storage', 'collector']),
    restApi: fake('rest-api', journal, ['processor', 'storage']),
    grpcApi: fake('grpc-api', journal, ['processor', 'storage']),
  };
}

function managerWith(services: HostedService[], options: Partial<ServiceManagerOptions> = {}): ServiceManager {
  const manager = new ServiceManager({ logger, ...options });
  services.forEach((service) => manager.register(service));
  return manager;
}

const calls = (journal: string[], verb: string): string[] =>
  journal.filter((entry) => entry.startsWith(`${verb} `)).map((entry) => entry.slice(verb.length + 1));

describe(ServiceManager.name, () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  describe('start and stop', () => {
    it('starts in dependency order and stops in reverse', async () => {
      const journal: string[] = [];
      const manager = managerWith(Object.values(seedGraph(journal)));

      await manager.startAll();
      expect(calls(journal, 'start')).toEqual(['storage', 'collector', 'integrations', 'processor', 'rest-api', 'grpc-api']);
      expect(new Set(Object.values(manager.states()))).toEqual(new Set(['running']));

      await manager.stopAll();
      expect(calls(journal, 'stop')).toEqual(['grpc-api', 'rest-api', 'processor', 'integrations', 'collector', 'storage']);
      expect(new Set(Object.values(manager.states()))).toEqual(new Set(['stopped']));
    });

    it('rolls back the started services when one fails to start, and names it', async () => {
      const journal: string[] = [];
      const graph = seedGraph(journal);
      graph.processor!.failStart = true;
      const manager = managerWith(Object.values(graph));

      const startup = manager.startAll();
      await expect(startup).rejects.toThrow(ServiceStartError);
      await expect(startup).rejects.toThrow('service "processor" failed to start: processor cannot connect');
      expect(calls(journal, 'start')).toEqual(['storage', 'collector', 'integrations', 'processor']);
      expect(calls(journal, 'stop')).toEqual(['integrations', 'collector', 'storage']);
      expect(manager.states()).toMatchObject({ processor: 'failed', storage: 'stopped', 'rest-api': 'stopped' });
    });

    it('keeps stopping the others when a stop throws or hangs', async () => {
      const journal: string[] = [];
      const [db, cache, api] = [fake('db', journal), fake('cache', journal), fake('api', journal, ['db', 'cache'])];
      cache.stop = async () => {
        journal.push('stop cache');
        throw new Error('already closed');
      };
      api.stop = () => {
        journal.push('stop api');
        return new Promise<void>(() => undefined);
      };
      const manager = managerWith([db, cache, api], { stopTimeoutMs: 20 });

      await manager.startAll();
      await manager.stopAll();
      expect(calls(journal, 'stop')).toEqual(['api', 'cache', 'db']);
      expect(manager.states()).toEqual({ db: 'stopped', cache: 'failed', api: 'failed' });
    });

    it('refuses registrations once started', async () => {
      const manager = managerWith([fake('db', [])]);
      await manager.startAll();
      expect(() => manager.register(fake('late', []))).toThrow('already started');
      await manager.stopAll();
    });
  });

  describe('health monitor', () => {
    it('marks a service degraded below the threshold and running again once healthy', async () => {
      const journal: string[] = [];
      const db = fake('db', journal);
      const registry = new Registry();
      const manager = managerWith([db], { registry });
      await manager.startAll();

      db.healthy = false;
      await manager.checkHealthOnce();
      await manager.checkHealthOnce();
      expect(manager.states()['db']).toBe('degraded');
      expect(await registry.getSingleMetricAsString('service_status')).toContain('service_status{service="db"} 0.5');

      db.healthy = true;
      await manager.checkHealthOnce();
      expect(manager.states()['db']).toBe('running');
      expect(await registry.getSingleMetricAsString('service_status')).toContain('service_status{service="db"} 1');
      expect(calls(journal, 'stop')).toEqual([]);
    });

    it('restarts with backoff 1 s, 2 s, 4 s and marks the service failed after 3 attempts', async () => {
      const journal: string[] = [];
      const db = fake('db', journal);
      const api = fake('api', journal, ['db']);
      const sleeps: number[] = [];
      const registry = new Registry();
      const manager = managerWith([db, api], { registry, sleep: async (ms) => void sleeps.push(ms) });
      await manager.startAll();

      db.healthy = false;
      db.failStart = true;
      for (let check = 0; check < 3; check += 1) await manager.checkHealthOnce();

      expect(sleeps).toEqual([1000, 2000, 4000]);
      expect(calls(journal, 'start').filter((name) => name === 'db')).toHaveLength(4);
      expect(manager.states()).toEqual({ db: 'failed', api: 'running' });
      expect(await registry.getSingleMetricAsString('service_restarts_total')).toContain(
        'service_restarts_total{service="db"} 3',
      );

      // Failed is final: the monitor no longer probes or restarts it.
      db.healthy = true;
      db.failStart = false;
      const healthCallsBefore = calls(journal, 'health').filter((name) => name === 'db').length;
      for (let check = 0; check < 6; check += 1) await manager.checkHealthOnce();
      expect(calls(journal, 'health').filter((name) => name === 'db')).toHaveLength(healthCallsBefore);
      expect(manager.states()['db']).toBe('failed');
      await manager.stopAll();
    });

    it('keeps growing the backoff while restarts succeed but the service stays unhealthy, then gives up', async () => {
      const journal: string[] = [];
      const db = fake('db', journal);
      const sleeps: number[] = [];
      const manager = managerWith([db], { sleep: async (ms) => void sleeps.push(ms) });
      await manager.startAll();

      db.healthy = false;
      for (let check = 0; check < 12; check += 1) await manager.checkHealthOnce();

      expect(sleeps).toEqual([1000, 2000, 4000]);
      expect(calls(journal, 'stop')).toEqual(['db', 'db', 'db', 'db']);
      expect(manager.states()['db']).toBe('failed');
    });

    it('resets the backoff after a healthy check', async () => {
      const db = fake('db', []);
      const sleeps: number[] = [];
      const manager = managerWith([db], { failureThreshold: 1, sleep: async (ms) => void sleeps.push(ms) });
      await manager.startAll();

      db.healthy = false;
      await manager.checkHealthOnce();
      db.healthy = true;
      await manager.checkHealthOnce();
      db.healthy = false;
      await manager.checkHealthOnce();
      expect(sleeps).toEqual([1000, 1000]);
      expect(manager.states()['db']).toBe('running');
    });

    it('caps the backoff at backoffMaxMs', async () => {
      const db = fake('db', []);
      const sleeps: number[] = [];
      const manager = managerWith([db], {
        failureThreshold: 1,
        maxRecoveryAttempts: 5,
        backoffMaxMs: 3000,
        sleep: async (ms) => void sleeps.push(ms),
      });
      await manager.startAll();
      db.healthy = false;
      db.failStart = true;
      await manager.checkHealthOnce();
      expect(sleeps).toEqual([1000, 2000, 3000, 3000, 3000]);
    });

    it('checks on every interval and counts a hanging health check as a failure', async () => {
      jest.useFakeTimers();
      const db = fake('db', []);
      const manager = managerWith([db], { healthIntervalMs: 30_000, healthTimeoutMs: 5_000 });
      await manager.startAll();
      db.health = () => new Promise<HealthReport>(() => undefined);

      manager.startHealthMonitor();
      await jest.advanceTimersByTimeAsync(30_000);
      expect(manager.states()['db']).toBe('running');
      await jest.advanceTimersByTimeAsync(5_000);
      expect(manager.states()['db']).toBe('degraded');

      manager.stopHealthMonitor();
      await manager.stopAll();
    });

    it('abandons a restart backoff when shutdown begins', async () => {
      const journal: string[] = [];
      const db = fake('db', journal);
      const manager = managerWith([db], { failureThreshold: 1, sleep: () => new Promise<void>(() => undefined) });
      await manager.startAll();

      db.healthy = false;
      const round = manager.checkHealthOnce();
      await manager.stopAll();
      await round;
      expect(journal.filter((entry) => !entry.startsWith('health'))).toEqual(['start db', 'stop db']);
      expect(manager.states()['db']).toBe('stopped');
    });
  });
});
