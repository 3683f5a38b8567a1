import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, stringify, type Document, type Node } from 'yaml';
import type { JsonValue } from '../http/config-api.js';
import { environmentNameProblem, keyNameProblem, namespaceProblem } from './config-names.js';

/** Values of a namespace by key, then by environment: what one file holds. */
export type NamespaceValues = Record<string, Record<string, JsonValue>>;

/** One namespace as config-as-code sees it; `file` is where it was read from (relative to the directory). */
export interface NamespaceFile {
  namespace: string;
  file: string;
  keys: NamespaceValues;
}

export type ConfigFileFormat = 'yaml' | 'json';

const EXTENSIONS: Record<string, ConfigFileFormat> = { '.yaml': 'yaml', '.yml': 'yaml', '.json': 'json' };

/** A config file that cannot be used, named with the file, the path inside it (`keys.model.production`) and the line. */
export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly line: number | undefined,
    readonly problem: string,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${path === '' ? '' : `${path}: `}${problem}`);
    this.name = 'ConfigFileError';
  }
}

/** `acme/chatbot.yaml` → `acme/chatbot`: the file's path is its namespace. */
export function namespaceOfFile(relativePath: string): string {
  const extension = Object.keys(EXTENSIONS).find((candidate) => relativePath.endsWith(candidate));
  if (extension === undefined) throw new ConfigFileError(relativePath, '', undefined, `not a config file: use ${Object.keys(EXTENSIONS).join(', ')}`);
  const namespace = relativePath.slice(0, -extension.length).split(sep).join('/');
  const problem = namespaceProblem(namespace);
  if (problem) throw new ConfigFileError(relativePath, '', undefined, problem);
  return namespace;
}

export function fileOfNamespace(namespace: string, format: ConfigFileFormat): string {
  return `${namespace.split('/').join(sep)}.${format}`;
}

/**
 * Parses one file (YAML, of which JSON is a subset): `keys:` maps each key to its values by environment. Duplicate
 * fields, unknown fields, bad names and values JSON cannot carry (NaN, infinity) are refused with their place.
 */
export function parseNamespaceFile(file: string, text: string): NamespaceValues {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const lineAt = (node: Node | null | undefined): number | undefined => (node?.range ? lines.linePos(node.range[0]).line : undefined);
  const fail = (path: string, node: Node | null | undefined, problem: string): never => {
    throw new ConfigFileError(file, path, lineAt(node), problem);
  };
  const [syntaxError] = document.errors;
  if (syntaxError) throw new ConfigFileError(file, '', lines.linePos(syntaxError.pos[0]).line, syntaxError.message.split('\n')[0]!);
  const root = document.contents;
  if (!isMap(root)) return fail('', root, 'must be a mapping with a "keys" field');
  const keys: NamespaceValues = {};
  let keysNode: Node | undefined;
  for (const field of root.items) {
    const name = scalarName(field.key);
    if (name !== 'keys') fail(name ?? '', field.key as Node, 'unknown field; a file holds "keys" only');
    keysNode = (field.value ?? undefined) as Node | undefined;
  }
  if (!isMap(keysNode)) return fail('keys', keysNode ?? root, 'must be a mapping of keys to their values by environment');
  for (const keyPair of keysNode.items) {
    const key = scalarName(keyPair.key) ?? fail('keys', keyPair.key as Node, 'a key must be a name');
    const keyPath = `keys.${key}`;
    const keyProblem = keyNameProblem(key);
    if (keyProblem) fail(keyPath, keyPair.key as Node, keyProblem);
    const environments = keyPair.value as Node | null;
    if (!isMap(environments) || environments.items.length === 0) fail(keyPath, environments ?? (keyPair.key as Node), 'must map at least one environment to a value');
    const values: Record<string, JsonValue> = {};
    for (const environmentPair of (environments as { items: Array<{ key: unknown; value: unknown }> }).items) {
      const environment = scalarName(environmentPair.key) ?? fail(keyPath, environments, 'an environment must be a name');
      const valuePath = `${keyPath}.${environment}`;
      const environmentProblem = environmentNameProblem(environment);
      if (environmentProblem) fail(valuePath, environmentPair.key as Node, environmentProblem);
      const valueNode = environmentPair.value as Node | null;
      values[environment] = jsonValueOf(valueNode, document, (problem) => fail(valuePath, valueNode ?? (environmentPair.key as Node), problem));
    }
    keys[key] = values;
  }
  return keys;
}

/** Text of one file; keys sorted and environments in the order given, so that exports diff cleanly. */
export function serializeNamespaceFile(keys: NamespaceValues, format: ConfigFileFormat): string {
  const document = { keys };
  return format === 'json' ? `${JSON.stringify(document, null, 2)}\n` : stringify(document, { lineWidth: 0 });
}

/** Every config file below `directory`, parsed; hidden files and other extensions are left alone. */
export async function readConfigDirectory(directory: string): Promise<NamespaceFile[]> {
  const paths = (await readdir(directory, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && Object.keys(EXTENSIONS).some((extension) => entry.name.endsWith(extension)))
    .map((entry) => join(entry.parentPath, entry.name).slice(join(directory, sep).length))
    .filter((path) => !path.split(sep).some((segment) => segment.startsWith('.')))
    .sort();
  const files: NamespaceFile[] = [];
  const byNamespace = new Map<string, string>();
  for (const file of paths) {
    const namespace = namespaceOfFile(file);
    const other = byNamespace.get(namespace);
    if (other !== undefined) throw new ConfigFileError(file, '', undefined, `namespace ${namespace} is already defined by ${other}`);
    byNamespace.set(namespace, file);
    files.push({ namespace, file, keys: parseNamespaceFile(file, await readFile(join(directory, file), 'utf8')) });
  }
  return files;
}

/** Writes one file per namespace under `directory`; returns the files written, relative to it. */
export async function writeConfigDirectory(
  directory: string,
  namespaces: ReadonlyArray<{ namespace: string; keys: NamespaceValues }>,
  format: ConfigFileFormat,
): Promise<string[]> {
  const written: string[] = [];
  for (const { namespace, keys } of namespaces) {
    const file = fileOfNamespace(namespace, format);
    await mkdir(dirname(join(directory, file)), { recursive: true });
    await writeFile(join(directory, file), serializeNamespaceFile(keys, format));
    written.push(file);
  }
  return written;
}

function scalarName(node: unknown): string | undefined {
  return isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number') ? String(node.value) : undefined;
}

function jsonValueOf(node: Node | null, document: Document, fail: (problem: string) => never): JsonValue {
  if (node === null) return null;
  const value: unknown = node.toJS(document);
  const problem = jsonProblem(value, '');
  return problem === undefined ? (value as JsonValue) : fail(problem);
}

/** Why `value` cannot be stored as JSON, with a JSON Pointer to the part that cannot. */
function jsonProblem(value: unknown, pointer: string): string | undefined {
  const at = pointer === '' ? '' : ` at ${pointer}`;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${value} is not a JSON number${at}`;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const problem = jsonProblem(item, `${pointer}/${index}`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (Object.prototype.toString.call(value) === '[object Object]') {
    for (const [field, item] of Object.entries(value as Record<string, unknown>)) {
      const problem = jsonProblem(item, `${pointer}/${field}`);
      if (problem) return problem;
    }
    return undefined;
  }
  return `${typeof value === 'object' ? 'this kind of value' : typeof value} cannot be stored as JSON${at}`;
}
