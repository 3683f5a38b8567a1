import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ServerProcess } from './server-process.js';

/**
 * A private nats-server with JetStream for tests that take NATS down: stop or kill it and restart it on the same port
 * with the same store. `dispose()` stops it and deletes the store, so its streams leave nothing behind.
 */
export class NatsServerProcess {
  private readonly server: ServerProcess;

  private constructor(
    readonly port: number,
    readonly storeDir: string,
  ) {
    this.server = new ServerProcess({
      name: 'nats-server',
      binary: process.env['NATS_SERVER_BIN'] ?? '/usr/sbin/nats-server',
      args: ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir],
      output: 'stderr',
      readyLine: 'Server is ready',
    });
  }

  static async start(): Promise<NatsServerProcess> {
    const nats = new NatsServerProcess(await freePort(), await mkdtemp(join(tmpdir(), 'llmops-nats-')));
    try {
      await nats.restart();
    } catch (error) {
      await nats.dispose();
      throw error;
    }
    return nats;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts the server again after stop() or kill(); resolves once it logs that it is ready. */
  restart(): Promise<void> {
    return this.server.start();
  }

  /** SIGTERM is a clean shutdown, so what JetStream acknowledged is on disk before the process ends. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    return this.server.stop(signal);
  }

  /** A crash: no clean shutdown, clients see the connection drop. */
  kill(): Promise<void> {
    return this.stop('SIGKILL');
  }

  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.storeDir, { recursive: true, force: true });
  }
}
