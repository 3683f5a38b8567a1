import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { TEST_NATS_URL } from './test-names.js';

/** Deletes the JetStream streams a suite created on the shared NATS server; a stream already gone is fine. */
export async function deleteJetStreamStreams(names: readonly string[], url = TEST_NATS_URL): Promise<void> {
  const connection = await connect({ servers: url });
  try {
    const manager = await jetstreamManager(connection);
    for (const name of names) {
      await manager.streams.delete(name).catch((error: unknown) => {
        if (!/not found/i.test((error as Error).message)) throw error;
      });
    }
  } finally {
    await connection.close();
  }
}
