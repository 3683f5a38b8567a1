import { describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { deleteJetStreamStreams } from './jetstream-streams.js';
import { TEST_NATS_URL, uniqueName } from './test-names.js';

describe(deleteJetStreamStreams.name, () => {
  it('deletes the named streams and ignores ones already gone', async () => {
    const name = uniqueName('CLEANUP').toUpperCase();
    const connection = await connect({ servers: TEST_NATS_URL });
    try {
      const manager = await jetstreamManager(connection);
      await manager.streams.add({ name, subjects: [`${name.toLowerCase()}.>`] });
      await deleteJetStreamStreams([name, `${name}_NEVER_CREATED`]);
      const names: string[] = [];
      for await (const stream of manager.streams.list()) names.push(stream.config.name);
      expect(names).not.toContain(name);
    } finally {
      await connection.close();
    }
  });
});
