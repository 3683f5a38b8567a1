import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { JsonValue } from '../http/config-api.js';

/** A key as the client holds it: its value and where that value resolved from. */
export interface ResolvedKey {
  namespace: string;
  key: string;
  environment: string;
  version: number;
  revision: number;
  value: JsonValue;
}

/** What a client writes to its snapshot file: enough to serve the same values from a cold start. */
export interface ConfigSnapshot {
  format: 1;
  namespace: string;
  environment: string;
  revision: number;
  savedAt: string;
  keys: Record<string, ResolvedKey>;
}

/** Written beside the target, then renamed over it: a reader never sees half a file, even after a crash. */
export async function writeSnapshot(file: string, snapshot: ConfigSnapshot): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(snapshot));
  await rename(temporary, file);
}

/** The snapshot in `file` if there is one for this namespace and environment; anything else is no snapshot. */
export async function readSnapshot(file: string, namespace: string, environment: string): Promise<ConfigSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const snapshot = JSON.parse(text) as Partial<ConfigSnapshot>;
    const matches = snapshot.format === 1 && snapshot.namespace === namespace && snapshot.environment === environment;
    return matches && typeof snapshot.keys === 'object' && snapshot.keys !== null ? (snapshot as ConfigSnapshot) : undefined;
  } catch {
    return undefined;
  }
}
