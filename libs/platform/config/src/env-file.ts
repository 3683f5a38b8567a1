import { readFileSync } from 'node:fs';
import { EnvValidationError, type EnvSource } from './env-schema.js';

/**
 * The process environment, overlaid with the KEY=VALUE lines of the file named by ENV_FILE when set. Read again on
 * every call, so SIGHUP can pick up an edited file (a process cannot have its real environment changed from outside).
 */
export function readEnvSource(base: EnvSource = process.env): EnvSource {
  const file = base.ENV_FILE;
  if (!file) return base;
  try {
    return { ...base, ...parseEnvFile(readFileSync(file, 'utf8')) };
  } catch (error) {
    throw new EnvValidationError('environment file', [{ variable: 'ENV_FILE', message: `${file}: ${(error as Error).message}` }]);
  }
}

/** dotenv-style lines: `KEY=value`, optional `export `, single or double quotes, `#` comments. */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new Error(`ENV_FILE line ${index + 1} is not KEY=value`);
    let value = match[2]!;
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[1] === '"' ? quoted[2]!.replace(/\\n/g, '\n') : quoted[2]!;
    else value = value.replace(/\s+#.*$/, '');
    values[match[1]!] = value;
  }
  return values;
}
