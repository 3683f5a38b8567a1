import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

const START_TIMEOUT_MS = 10_000;

/** How to run one server binary and how it says it is ready. */
export interface ServerCommand {
  /** For messages, e.g. `nats-server`. */
  name: string;
  binary: string;
  args: string[];
  /** Which stream carries `readyLine`. */
  output: 'stdout' | 'stderr';
  readyLine: string;
}

/**
 * A server binary a test runs privately so it can take it down and bring it back on the same port (NATS, Redis):
 * start() resolves once the server logs that it is ready; stop() sends a signal and waits for the exit.
 */
export class ServerProcess {
  private child: ChildProcess | undefined;

  constructor(private readonly command: ServerCommand) {}

  async start(): Promise<void> {
    if (this.child) throw new Error(`${this.command.name} is already running`);
    const { binary, args, output } = this.command;
    const child = spawn(binary, args, { stdio: ['ignore', output === 'stdout' ? 'pipe' : 'ignore', output === 'stderr' ? 'pipe' : 'ignore'] });
    this.child = child;
    try {
      await whenReady(child, this.command);
    } catch (error) {
      await this.stop('SIGKILL');
      throw error;
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    // No pid: it never started (spawn error), so there is no exit to wait for.
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

function whenReady(child: ChildProcess, command: ServerCommand): Promise<void> {
  const stream = command.output === 'stdout' ? child.stdout : child.stderr;
  return new Promise<void>((resolve, reject) => {
    let output = '';
    const settle = (error?: Error): void => {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('error', settle);
      if (error) reject(error);
      else resolve();
    };
    const onExit = (code: number | null): void => settle(new Error(`${command.name} exited (${code}) before it was ready:\n${output}`));
    const timer = setTimeout(() => settle(new Error(`${command.name} was not ready within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    // Keep reading after start-up too: a full pipe would block the server.
    stream?.on('data', (chunk: Buffer) => {
      if (output.includes(command.readyLine)) return;
      output += chunk.toString();
      if (output.includes(command.readyLine)) settle();
    });
    child.once('exit', onExit);
    child.once('error', settle);
  });
}

/** A port the OS just handed out; the server binds it right after, so a collision is unlikely. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}
