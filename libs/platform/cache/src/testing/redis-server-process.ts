import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const START_TIMEOUT_MS = 10_000;

export interface RedisServerOptions {
  /** Keep data across kill() and restart() (append-only file, fsync on every write), as a persistent Redis would. */
  persistent?: boolean;
}

/**
 * A private redis-server for tests that take Redis down: kill() it and restart() it on the same port. The shared test
 * Redis must never be stopped, since other suites use it. `dispose()` kills it and deletes its data directory.
 */
export class RedisServerProcess {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dataDir: string,
    private readonly persistent: boolean,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServerProcess> {
    const dataDir = await mkdtemp(join(tmpdir(), 'llmops-redis-'));
    const server = new RedisServerProcess(await freePort(), dataDir, options.persistent ?? false);
    try {
      await server.restart();
    } catch (error) {
      await server.dispose();
      throw error;
    }
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server again after kill(); resolves once it accepts connections. */
  async restart(): Promise<void> {
    if (this.child) throw new Error('redis-server is already running');
    const binary = process.env['REDIS_SERVER_BIN'] ?? '/usr/bin/redis-server';
    const persistence = this.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const child = spawn(binary, ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dataDir, '--save', '', ...persistence], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.child = child;
    try {
      await whenReady(child);
    } catch (error) {
      await this.kill();
      throw error;
    }
  }

  /** A crash: clients see their connections drop. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.kill();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

function whenReady(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let output = '';
    const settle = (error?: Error): void => {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('error', settle);
      child.stdout?.off('data', onData);
      if (error) reject(error);
      else resolve();
    };
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) settle();
    };
    const onExit = (code: number | null): void => settle(new Error(`redis-server exited (${code}) before it was ready: ${output}`));
    const timer = setTimeout(() => settle(new Error(`redis-server not ready within ${START_TIMEOUT_MS} ms: ${output}`)), START_TIMEOUT_MS);
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', settle);
  });
}

/** A port the OS just handed out; redis-server binds it right after, so a collision is unlikely. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
