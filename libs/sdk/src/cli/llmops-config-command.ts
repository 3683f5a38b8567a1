import { createInterface } from 'node:readline/promises';
import { applyPlan, exportNamespace, planDirectory } from '../as-code/config-as-code.js';
import { formatPlan, hasChanges } from '../as-code/config-plan.js';
import { serializeNamespaceFile, writeConfigDirectory, fileOfNamespace, type ConfigFileFormat } from '../as-code/namespace-file.js';
import type { GatewayConnection } from '../http/gateway-http.js';

export const USAGE = `Usage: llmops-config <command>
  export <namespace> [--format yaml|json] [--out <dir>] [--env <e1,e2>]   write the namespace tree as files (stdout without --out)
  plan <dir> [--env <e1,e2>]                                             show what apply would create (+), change (~), delete (-)
  apply <dir> [--auto-approve] [--env <e1,e2>]                           plan, confirm, then apply all or nothing
Environment: LLMOPS_URL (the gateway), LLMOPS_API_KEY or LLMOPS_TOKEN.
`;

/** What the command reads and writes, so it runs the same from a terminal and from a test. */
export interface CommandIo {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Asks a question and answers the reply; undefined when no one can answer (stdin is not a terminal). */
  ask?: (question: string) => Promise<string>;
}

class UsageError extends Error {}

/** Runs one command; answers the exit code: 0 done, 1 failed, 2 bad usage. */
export async function runLlmopsConfig(args: readonly string[], io: CommandIo): Promise<number> {
  try {
    const { command, positional, flags } = parseArguments(args);
    const environments = flags.get('env')?.split(',').filter(Boolean) ?? [];
    switch (command) {
      case 'export': {
        const format = flags.get('format') ?? 'yaml';
        if (format !== 'yaml' && format !== 'json') throw new UsageError(`--format must be yaml or json, not ${format}`);
        const namespaces = await exportNamespace(connectionOf(io.env), required(positional, 'a namespace'), { environments });
        const out = flags.get('out');
        if (out === undefined) {
          for (const { namespace, keys } of namespaces) io.stdout(`# ${fileOfNamespace(namespace, format)}\n${serializeNamespaceFile(keys, format as ConfigFileFormat)}`);
        } else {
          const written = await writeConfigDirectory(out, namespaces, format as ConfigFileFormat);
          io.stdout(`Wrote ${written.length} file(s) to ${out}: ${written.join(', ')}\n`);
        }
        return 0;
      }
      case 'plan':
        io.stdout(formatPlan(await planDirectory(connectionOf(io.env), required(positional, 'a directory'), { environments })));
        return 0;
      case 'apply': {
        const connection = connectionOf(io.env);
        const plan = await planDirectory(connection, required(positional, 'a directory'), { environments });
        io.stdout(formatPlan(plan));
        if (!hasChanges(plan)) return 0;
        if (!flags.has('auto-approve')) {
          if (!io.ask) throw new UsageError('not a terminal: pass --auto-approve to apply without confirming');
          const answer = await io.ask("Apply these changes? Only 'yes' applies: ");
          if (answer.trim() !== 'yes') {
            io.stderr('Apply cancelled.\n');
            return 1;
          }
        }
        const written = await applyPlan(connection, plan);
        io.stdout(`Applied: ${written.length} change(s).\n`);
        return 0;
      }
      default:
        throw new UsageError(command === undefined ? 'a command is required' : `unknown command ${command}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\n${USAGE}`);
      return 2;
    }
    io.stderr(`Error: ${messageOf(error)}\n`);
    return 1;
  }
}

/** The process's own terminal, environment and output. */
export function processIo(): CommandIo {
  return {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    ask: process.stdin.isTTY
      ? async (question) => {
          const terminal = createInterface({ input: process.stdin, output: process.stdout });
          try {
            return await terminal.question(question);
          } finally {
            terminal.close();
          }
        }
      : undefined,
  };
}

const VALUE_FLAGS = new Set(['format', 'out', 'env']);
const SWITCHES = new Set(['auto-approve']);

function parseArguments(args: readonly string[]): { command: string | undefined; positional: string[]; flags: Map<string, string> } {
  const [command, ...rest] = args;
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (SWITCHES.has(name)) flags.set(name, 'true');
    else if (VALUE_FLAGS.has(name)) {
      const value = inline ?? rest[++index];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else throw new UsageError(`unknown option --${name}`);
  }
  if (positional.length > 1) throw new UsageError(`unexpected argument ${positional[1]}`);
  return { command, positional, flags };
}

function required(positional: readonly string[], what: string): string {
  const value = positional[0];
  if (value === undefined) throw new UsageError(`${what} is required`);
  return value;
}

function connectionOf(env: Record<string, string | undefined>): GatewayConnection {
  const baseUrl = env.LLMOPS_URL;
  if (!baseUrl) throw new UsageError('LLMOPS_URL must name the gateway, e.g. http://localhost:8080');
  if (!env.LLMOPS_API_KEY && !env.LLMOPS_TOKEN) throw new UsageError('LLMOPS_API_KEY or LLMOPS_TOKEN is required');
  return { baseUrl, apiKey: env.LLMOPS_API_KEY || undefined, token: env.LLMOPS_TOKEN || undefined };
}

/** fetch says only "fetch failed"; the reason (refused, DNS, TLS) is in its cause. Errors may come from another realm. */
function messageOf(error: unknown): string {
  if (typeof error !== 'object' || error === null || !('message' in error)) return String(error);
  const { message, cause } = error as { message: string; cause?: { message?: string } };
  return cause?.message ? `${message} (${cause.message})` : message;
}
