import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const START_TIMEOUT_MS = 10_000;

/**
 * A private nats-server with JetStream for tests that take NATS down: stop or kill it and restart it on the same port
 * with the same store. `dispose()` stops it and deletes the store, so its streams leave nothing behind.
 */
export class NatsServerProcess {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly storeDir: string,
  ) {}

  static async start(): Promise<NatsServerProcess> {
    const server = new NatsServerProcess(await freePort(), await mkdtemp(join(tmpdir(), 'llmops-nats-')));
    try {
      await server.restart();
    } catch (error) {
      await server.dispose();
      throw error;
    }
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts the server again after stop() or kill(); resolves once it logs that it is ready. */
  async restart(): Promise<void> {
    if (this.child) throw new Error('nats-server is already running');
    const binary = process.env['NATS_SERVER_BIN'] ?? '/usr/sbin/nats-server';
    const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    try {
      await whenReady(child);
    } catch (error) {
      await this.stop('SIGKILL');
      throw error;
    }
  }

  /** SIGTERM is a clean shutdown, so what JetStream acknowledged is on disk before the process ends. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    // No pid: it never started (spawn error), so there is no exit to wait for.
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
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

function whenReady(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let output = '';
    const settle = (error?: Error): void => {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('error', settle);
      if (error) reject(error);
      else resolve();
    };
    const onExit = (code: number | null): void => settle(new Error(`nats-server exited with ${code}:\n${output}`));
    const timer = setTimeout(() => settle(new Error(`nats-server was not ready within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    // Keep reading after start-up too: a full stderr pipe would block the server.
    child.stderr?.on('data', (chunk: Buffer) => {
      if (output.includes('Server is ready')) return;
      output += chunk.toString();
      if (output.includes('Server is ready')) settle();
    });
    child.once('exit', onExit);
    child.once('error', settle);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}
