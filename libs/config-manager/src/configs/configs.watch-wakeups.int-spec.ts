import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigService, type WatchConfigsResponse } from '@llmops/contracts';
import { principalToMetadata } from '@llmops/platform-auth';
import { createGrpcClient, GrpcServer, type GrpcClient } from '@llmops/platform-grpc';
import { JetStreamBus, Outbox, OutboxRelay } from '@llmops/platform-messaging';
import { openDatabase } from '@llmops/platform-persistence';
import { createTestDatabase, deleteJetStreamStreams, sleep, TEST_NATS_URL, uniqueName, waitFor, type TestDatabase } from '@llmops/platform-testing';
import { Registry } from 'prom-client';
import { CONFIG_MANAGER_MIGRATIONS } from '../config-manager.host.js';
import { CONFIG_MANAGER_SCHEMA } from '../migrations/1763800000000-CreateConfigEntries.js';
import { NamespaceSettingsService } from '../namespace-settings/namespace-settings.service.js';
import { listenForConfigCommits } from './config-commit-announcements.js';
import { ConfigEntryEntity } from './config-entry.entity.js';
import { ConfigsGrpcController } from './configs.grpc-controller.js';
import { ConfigsService, type ConfigActor } from './configs.service.js';
import { mapConfigExceptionToGrpc } from './exceptions/config-exception.grpc-mapper.js';

const admin: ConfigActor = { principal: { id: 'admin-1', type: 'user', roles: ['global-admin'] }, requestId: 'r1' };
const adminMetadata = principalToMetadata(admin.principal, 'r1');
/** Far beyond every wait below: a change that reaches a watch here was brought by the wake-up, not by the poll. */
const BACKSTOP_POLL_MS = 120_000;

/** A config-manager replica as a process has it: its own pool, outbox relay, service, gRPC server and client. */
interface Replica {
  configs: ConfigsService;
  client: GrpcClient<typeof ConfigService>;
  close(): Promise<void>;
}

describe('watch wake-ups across replicas on one database and one NATS', () => {
  let testDatabase: TestDatabase;
  let bus: JetStreamBus;
  let writer: Replica;
  let announced: Replica;
  let unannounced: Replica;
  const stream = uniqueName('CM_WAKE').toUpperCase();
  const subjectRoot = stream.toLowerCase();

  async function startReplica(options: { hearsAnnouncements: boolean }): Promise<Replica> {
    const database = await openDatabase({
      service: 'config-manager',
      schema: CONFIG_MANAGER_SCHEMA,
      url: testDatabase.url,
      entities: [ConfigEntryEntity],
      migrations: CONFIG_MANAGER_MIGRATIONS,
    });
    const registry = new Registry();
    const outbox = new Outbox({ source: 'config-manager', schema: CONFIG_MANAGER_SCHEMA, subjectRoot });
    // Events go out when a commit nudges the relay, as in the service; its poll is too slow to matter here.
    const relay = new OutboxRelay({ dataSource: database.dataSource, schema: CONFIG_MANAGER_SCHEMA, bus, pollIntervalMs: BACKSTOP_POLL_MS, registry });
    const settings = new NamespaceSettingsService(database, outbox, { registry });
    const configs = new ConfigsService(database, outbox, settings, { registry, watchPollMs: BACKSTOP_POLL_MS, onCommitted: () => relay.nudge() });
    const announcements = options.hearsAnnouncements
      ? listenForConfigCommits(bus, subjectRoot, () => configs.wakeWatchers())
      : undefined;
    const server = new GrpcServer({ host: '127.0.0.1', port: 0, errorMapper: mapConfigExceptionToGrpc, registry });
    server.addService(ConfigService, new ConfigsGrpcController(configs, settings).implementation());
    const client = createGrpcClient(ConfigService, { address: `127.0.0.1:${await server.start()}`, registry });
    relay.start();
    return {
      configs,
      client,
      close: async () => {
        client.close();
        await server.stop(100);
        await announcements?.close();
        configs.changeFeed.close();
        await relay.stop();
        await database.close();
      },
    };
  }

  /** Follows `replica`'s watch of `namespace` from the next change, once it is in place. */
  async function watchOn(replica: Replica, namespace: string): Promise<{ seen: WatchConfigsResponse[]; stop(): Promise<void> }> {
    const seen: WatchConfigsResponse[] = [];
    const cancel = new AbortController();
    let created!: () => void;
    const inPlace = new Promise<void>((resolve) => (created = resolve));
    const following = (async () => {
      for await (const response of replica.client.watchConfigs(
        { namespacePrefix: namespace, startRevision: 0n, notifyCreated: true },
        { metadata: adminMetadata, signal: cancel.signal },
      )) {
        if (response.created) created();
        else seen.push(response);
      }
    })().catch(() => undefined);
    await inPlace;
    return {
      seen,
      stop: async () => {
        cancel.abort();
        await following;
      },
    };
  }

  beforeAll(async () => {
    testDatabase = await createTestDatabase({ prefix: 'configs_wakeups' });
    bus = await JetStreamBus.connect({ url: TEST_NATS_URL, stream, subjectRoot, name: 'configs-wakeups-test' });
    writer = await startReplica({ hearsAnnouncements: true });
    announced = await startReplica({ hearsAnnouncements: true });
    unannounced = await startReplica({ hearsAnnouncements: false });
  });

  afterAll(async () => {
    await writer?.close();
    await announced?.close();
    await unannounced?.close();
    await bus?.close();
    await deleteJetStreamStreams([stream]);
    await testDatabase?.drop();
  });

  it('brings a write on one replica to a watch on another at once, which without the announcement waits for its poll', async () => {
    const hearing = await watchOn(announced, 'wake/one');
    const deaf = await watchOn(unannounced, 'wake/one');
    const ref = { namespace: 'wake/one', key: 'model', environment: 'base' };
    // The deaf watch may still be on its first scan and see this one; by the second it is asleep.
    const first = await writer.configs.set(admin, { ...ref, value: 'gpt-4o' });
    await waitFor(() => hearing.seen.length === 1, { timeoutMs: 10_000, message: 'the announced replica did not wake its watch' });
    const second = await writer.configs.set(admin, { ...ref, value: 'o3' });
    await waitFor(() => hearing.seen.length === 2, { timeoutMs: 10_000, message: 'the announced replica did not wake its watch' });
    expect(hearing.seen.map((change) => Number(change.revision))).toEqual([first.revision, second.revision]);
    // Long past the relay: the replica that hears no announcement still sleeps until its poll.
    await sleep(300);
    expect(deaf.seen.map((change) => Number(change.revision))).not.toContain(second.revision);
    await hearing.stop();
    await deaf.stop();
  });

  it('delivers each of many writes by another replica exactly once, in order', async () => {
    const hearing = await watchOn(announced, 'wake/many');
    const revisions: number[] = [];
    for (let index = 0; index < 30; index++) {
      const key = `k${index % 4}`;
      revisions.push((await writer.configs.set(admin, { namespace: 'wake/many', key, environment: 'base', value: index })).revision);
    }
    await waitFor(() => hearing.seen.length >= revisions.length, { timeoutMs: 10_000, message: 'the watch missed changes' });
    // Every announcement wakes the watch again: none of those wake-ups may deliver a change twice.
    await sleep(200);
    expect(hearing.seen.map((change) => Number(change.revision))).toEqual(revisions);
    await hearing.stop();
  });
});
