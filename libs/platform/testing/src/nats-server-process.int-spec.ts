import { access } from 'node:fs/promises';
import { afterAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NatsServerProcess } from './nats-server-process.js';

describe(NatsServerProcess.name, () => {
  let server: NatsServerProcess | undefined;

  afterAll(async () => {
    await server?.dispose();
  });

  it('comes back after a kill on the same port with its JetStream store, and dispose() removes the store', async () => {
    server = await NatsServerProcess.start();
    const before = await connect({ servers: server.url });
    await (await jetstreamManager(before)).streams.add({ name: 'KEPT', subjects: ['kept.>'] });
    await before.close();

    await server.kill();
    await expect(connect({ servers: server.url, reconnect: false })).rejects.toThrow();
    await server.restart();

    const after = await connect({ servers: server.url });
    try {
      const { config } = await (await jetstreamManager(after)).streams.info('KEPT');
      expect(config.subjects).toEqual(['kept.>']);
    } finally {
      await after.close();
    }
    await server.dispose();
    await expect(access(server.storeDir)).rejects.toThrow();
  });
});
