import { ConfigApi, type BulkOperation, type ConfigEntryView, type JsonValue } from '../http/config-api.js';
import { GatewayHttp, type GatewayConnection } from '../http/gateway-http.js';
import { hasChanges, planChanges, type ConfigPlan, type LiveValue, type NamespaceState } from './config-plan.js';
import { readConfigDirectory, type NamespaceValues } from './namespace-file.js';

/** The most operations one bulk request takes, as config-manager allows: a larger plan cannot apply all-or-nothing. */
export const MAX_PLAN_OPERATIONS = 1000;

export interface EnvironmentOptions {
  /** Environments to read besides each namespace's chain (a key set only in an environment outside it is otherwise not seen). */
  environments?: readonly string[];
}

/** A namespace's keys by environment, exactly as stored in each (no inheritance): the content of one file. */
export interface NamespaceExport {
  namespace: string;
  keys: NamespaceValues;
}

/**
 * Reads `namespace` and every namespace below it, each key's own value in every environment of the namespace's chain.
 * Namespaces without live keys are left out, so that exporting and applying the result changes nothing.
 */
export async function exportNamespace(connection: GatewayConnection, namespace: string, options: EnvironmentOptions = {}): Promise<NamespaceExport[]> {
  const api = new ConfigApi(new GatewayHttp(connection));
  const exported: NamespaceExport[] = [];
  const pending = [namespace];
  for (let current = pending.shift(); current !== undefined; current = pending.shift()) {
    const { state, children, chain } = await readNamespaceState(api, current, options.environments ?? []);
    pending.push(...children.map((child) => `${current}/${child}`));
    if (state.size === 0) continue;
    const rank = (environment: string): number => (chain.includes(environment) ? chain.indexOf(environment) : chain.length);
    const keys: NamespaceValues = {};
    for (const key of [...state.keys()].sort()) {
      const environments = [...state.get(key)!].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
      keys[key] = Object.fromEntries(environments.map(([environment, live]) => [environment, live.value]));
    }
    exported.push({ namespace: current, keys });
  }
  return exported.sort((a, b) => a.namespace.localeCompare(b.namespace));
}

/**
 * Reads the files in `directory` and compares them with the server: what applying them would create, change and
 * delete. Only namespaces that have a file are managed; each is read in its chain's environments and those its file names.
 */
export async function planDirectory(connection: GatewayConnection, directory: string, options: EnvironmentOptions = {}): Promise<ConfigPlan> {
  const files = await readConfigDirectory(directory);
  const api = new ConfigApi(new GatewayHttp(connection));
  const live = new Map<string, NamespaceState>();
  for (const file of files) {
    const named = Object.values(file.keys).flatMap((environments) => Object.keys(environments));
    live.set(file.namespace, (await readNamespaceState(api, file.namespace, [...(options.environments ?? []), ...named])).state);
  }
  return planChanges(files, live);
}

/**
 * Applies a plan in one all-or-nothing bulk request. Every operation carries the version the plan saw, so if anything
 * it touches changed since, the server refuses the whole request (409; 404 for a key deleted meanwhile) and writes
 * nothing. Answers the versions written, in the plan's order: creations, updates, deletions.
 */
export async function applyPlan(connection: GatewayConnection, plan: ConfigPlan): Promise<ConfigEntryView[]> {
  if (!hasChanges(plan)) return [];
  const operations: BulkOperation[] = [
    ...[...plan.create, ...plan.update].map(
      (change): BulkOperation => ({
        op: 'set',
        path: `${change.namespace}/${change.key}`,
        env: change.environment,
        value: change.after as JsonValue,
        expected_version: change.expectedVersion,
      }),
    ),
    ...plan.delete.map(
      (change): BulkOperation => ({ op: 'delete', path: `${change.namespace}/${change.key}`, env: change.environment, expected_version: change.expectedVersion }),
    ),
  ];
  if (operations.length > MAX_PLAN_OPERATIONS) {
    throw new Error(`the plan has ${operations.length} operations; one all-or-nothing apply takes at most ${MAX_PLAN_OPERATIONS}`);
  }
  return new ConfigApi(new GatewayHttp(connection)).bulkApply(operations);
}

/**
 * Each key's own live value per environment. A listing resolves through the chain, so a key listed with
 * resolved_from equal to the environment asked for is that environment's own value.
 */
async function readNamespaceState(
  api: ConfigApi,
  namespace: string,
  extraEnvironments: readonly string[],
): Promise<{ state: NamespaceState; children: string[]; chain: readonly string[] }> {
  const chain = await api.environmentChain(namespace);
  const state: NamespaceState = new Map();
  let children: string[] = [];
  for (const environment of new Set([...chain, ...extraEnvironments])) {
    const listing = await api.listNamespace(namespace, environment);
    if (!listing) continue;
    children = listing.namespaces;
    for (const entry of listing.keys) {
      if (entry.resolved_from !== environment) continue;
      const live: LiveValue = { value: entry.value, version: entry.version };
      state.set(entry.key, (state.get(entry.key) ?? new Map<string, LiveValue>()).set(environment, live));
    }
  }
  return { state, children, chain };
}
