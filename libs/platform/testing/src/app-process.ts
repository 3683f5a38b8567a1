import { spawn, type ChildProcess } from 'node:child_process';

export interface AppProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when a line matching `pattern` appears; rejects if the process exits first or the time runs out. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code once the process has exited. */
  exited(): Promise<number | null>;
  /** Sends `signal` and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs a built app (`dist/apps/<app>/main.js`) the way an operator would, for tests of its bootstrap. */
export function startAppProcess(script: string, env: Record<string, string | undefined>, cwd: string): AppProcess {
  const child = spawn(process.execPath, [script], {
    cwd,
    env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    listeners.forEach((listener) => listener());
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited: () => exit,
    waitForOutput: (pattern, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(output)) finish(resolve);
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms:\n${output}`))), timeoutMs);
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        void exit.then((code) => {
          if (!pattern.test(output)) finish(() => reject(new Error(`process exited (${code}) before ${pattern}:\n${output}`)));
        });
        check();
      }),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exit;
    },
  };
}
