import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ServerProcess } from './server-process.js';

export interface RedisServerOptions {
  /** Keep data across kill() and restart() (append-only file, fsync on every write), as a persistent Redis would. */
  persistent?: boolean;
}

/**
 * A private redis-server for tests that take Redis down: kill() it and restart() it on the same port. The shared test
 * Redis must never be stopped, since other suites use it. `dispose()` kills it and deletes its data directory.
 */
export class RedisServerProcess {
  private readonly server: ServerProcess;

  private constructor(
    readonly port: number,
    private readonly dataDir: string,
    persistent: boolean,
  ) {
    const persistence = persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    this.server = new ServerProcess({
      name: 'redis-server',
      binary: process.env['REDIS_SERVER_BIN'] ?? '/usr/bin/redis-server',
      args: ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--save', '', ...persistence],
      output: 'stdout',
      readyLine: 'Ready to accept connections',
    });
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServerProcess> {
    const redis = new RedisServerProcess(await freePort(), await mkdtemp(join(tmpdir(), 'llmops-redis-')), options.persistent ?? false);
    try {
      await redis.restart();
    } catch (error) {
      await redis.dispose();
      throw error;
    }
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server again after kill(); resolves once it accepts connections. */
  restart(): Promise<void> {
    return this.server.start();
  }

  /** A crash: clients see their connections drop. */
  kill(): Promise<void> {
    return this.server.stop('SIGKILL');
  }

  async dispose(): Promise<void> {
    await this.kill();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
