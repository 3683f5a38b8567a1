import type { EntityManager } from 'typeorm';
import { canRead, type ConfigActor } from '../configs/config-access.js';
import { DEFAULT_ENVIRONMENT_CHAIN } from '../configs/config-path.js';
import { ConfigException, ConfigExceptionCode } from '../configs/exceptions/config.exception.js';
import type { EffectiveSettings, NamespaceSettingsService } from '../namespace-settings/namespace-settings.service.js';
import { LLM_CONFIG_KINDS, nameOf } from './llm-config-kinds.js';

interface LatestRow {
  key: string;
  environment: string;
  value: unknown;
  deleted: boolean;
}

/**
 * Refuses (CONFLICT, i.e. FAILED_PRECONDITION / 409) the deletion of `endpoint.<name>` from one environment when a
 * failover chain of the same namespace would then name an endpoint that no longer resolves.
 *
 * Called in the deleting transaction once the deletion (in a bulk, every operation of it) is written: config writes
 * take the revision counter's row lock first, so this sees the state the commit leaves and no racing write. A bulk
 * is checked as a whole, like a deferred foreign key: deleting a chain and its endpoints together works in any order.
 *
 * Environments: a chain and the endpoints it names resolve through the same namespace's environment chain, and a
 * version in environment X serves every environment whose resolution order reaches X. So every environment whose
 * order includes the one deleted from is checked (the namespace's chain, plus any environment either kind was written
 * in; any other environment resolves like the chain's first one): the deletion is refused if, there, the chain that
 * resolves names the endpoint and the endpoint resolves no more. An endpoint still inherited from a less specific
 * environment (a production override deleted, the base version kept) keeps the chain working as any inherited
 * config does, so that deletion is allowed.
 */
export async function assertNoChainLosesEndpoint(
  manager: EntityManager,
  schema: string,
  settings: NamespaceSettingsService,
  ref: { namespace: string; key: string; environment: string },
  actor: ConfigActor,
): Promise<void> {
  const endpoint = nameOf('model_endpoint', ref.key);
  if (endpoint === undefined) return;
  const { rows, environments, orderOf, resolve } = await latestOf(manager, schema, settings, ref.namespace, ref.key, LLM_CONFIG_KINDS.failover_chain.prefix);
  const chainKeys = [...new Set(rows.filter((row) => row.key !== ref.key).map((row) => row.key))].sort();
  if (chainKeys.length === 0) return;

  const broken = new Map<string, string[]>();
  for (const environment of environments) {
    const order = orderOf(environment);
    if (!order.includes(ref.environment) || resolve(ref.key, order)) continue;
    for (const chainKey of chainKeys) {
      const chain = resolve(chainKey, order);
      if (chain && endpointsOf(chain.value).includes(endpoint)) broken.set(chainKey, [...(broken.get(chainKey) ?? []), environment]);
    }
  }
  if (broken.size === 0) return;
  const chains = describeAll([...broken].sort(([a], [b]) => a.localeCompare(b)), actor, { one: 'a failover chain', many: 'failover chains' });
  const several = broken.size > 1;
  const subject = chains.named > 0 ? `failover chain${several ? 's' : ''} ${chains.text}` : chains.text;
  throw new ConfigException(
    ConfigExceptionCode.Conflict,
    `config ${ref.namespace}/${ref.key} cannot be deleted from ${ref.environment}: ${subject} ` +
      `would name the missing endpoint ${endpoint}; point ${several ? 'them' : 'it'} at other endpoints or delete ${several ? 'them' : 'it'} first`,
    'key',
  );
}

/**
 * Refuses (INVALID_ARGUMENT, 400) a failover chain written (set, rolled back, undeleted, or in a bulk once all of it is
 * applied) to `ref.environment` when, in an environment it serves, an endpoint it names does not resolve: the same
 * rule whichever API wrote it, checked in the writing transaction so a racing endpoint deletion cannot slip between.
 */
export async function assertChainEndpointsResolve(
  manager: EntityManager,
  schema: string,
  settings: NamespaceSettingsService,
  ref: { namespace: string; key: string; environment: string },
  actor: ConfigActor,
): Promise<void> {
  if (nameOf('failover_chain', ref.key) === undefined) return;
  const { environments, orderOf, resolve } = await latestOf(manager, schema, settings, ref.namespace, ref.key, LLM_CONFIG_KINDS.model_endpoint.prefix);
  const missing = new Map<string, string[]>();
  for (const environment of environments) {
    const order = orderOf(environment);
    const chain = resolve(ref.key, order);
    // Only where this write is what resolves: a more specific version of the chain answers for itself.
    if (!chain || chain.environment !== ref.environment) continue;
    for (const name of endpointsOf(chain.value)) {
      if (!resolve(`${LLM_CONFIG_KINDS.model_endpoint.prefix}.${name}`, order)) missing.set(name, [...(missing.get(name) ?? []), environment]);
    }
  }
  if (missing.size === 0) return;
  const described = describeAll([...missing], actor, { one: 'an endpoint', many: 'endpoints' }).text;
  throw new ConfigException(
    ConfigExceptionCode.InvalidValue,
    `failover chain ${ref.namespace}/${ref.key} names ${missing.size > 1 ? 'endpoints that do' : 'an endpoint that does'} not resolve where it applies: ${described}; ` +
      `write ${LLM_CONFIG_KINDS.model_endpoint.prefix}.<name> there first`,
    'value',
  );
}

/**
 * Refuses (CONFLICT, 409) a namespace settings write whose environment chain would leave a failover chain naming an
 * endpoint that no longer resolves where the chain applies, in `namespace` or any namespace below it that inherits
 * these settings (`after`, just written). Only breakages the change causes count: one that already existed under
 * `before` does not block it.
 * Called in the settings transaction once the new settings are written, under the revision lock config writes take
 * first, so no config write can slip between the check and the commit; a write that keeps the environment chain
 * (a schema or max_versions change) cannot break a chain and skips it.
 */
export async function assertChainsSurviveSettings(
  manager: EntityManager,
  schema: string,
  settings: NamespaceSettingsService,
  namespace: string,
  change: { before: EffectiveSettings; after: EffectiveSettings },
  actor: ConfigActor,
): Promise<void> {
  const { before, after } = change;
  if (chainOf(before).join('\n') === chainOf(after).join('\n')) return;
  const below = `${namespace}/`;
  // Namespaces below with settings of their own are shielded from this change, and so is everything under them.
  const shielded: Array<{ namespace: string }> = await manager.query(
    `SELECT namespace FROM ${schema}.namespace_settings WHERE starts_with(namespace, $1)`,
    [below],
  );
  const governed = (candidate: string): boolean =>
    !shielded.some(({ namespace: own }) => candidate === own || candidate.startsWith(`${own}/`));
  const rows: Array<LatestRow & { namespace: string }> = await manager.query(
    `SELECT DISTINCT ON (namespace, key, environment) namespace, key, environment, value, deleted FROM ${schema}.config_entries
      WHERE (namespace = $1 OR starts_with(namespace, $2)) AND (starts_with(key, $3) OR starts_with(key, $4))
      ORDER BY namespace, key, environment, version DESC`,
    [namespace, below, `${LLM_CONFIG_KINDS.failover_chain.prefix}.`, `${LLM_CONFIG_KINDS.model_endpoint.prefix}.`],
  );
  const byNamespace = new Map<string, LatestRow[]>();
  for (const row of rows) if (governed(row.namespace)) byNamespace.set(row.namespace, [...(byNamespace.get(row.namespace) ?? []), row]);
  const broken = new Map<string, string[]>();
  for (const [holder, held] of byNamespace) {
    // Both sides over every environment either chain names, so a breakage that predates the change is seen as such.
    const environments = new Set([...environmentsToCheck(before, held), ...environmentsToCheck(after, held)]);
    const already = new Set(danglingReferences(held, settings, before, environments).map(([reference, environment]) => `${reference}@${environment}`));
    for (const [reference, environment] of danglingReferences(held, settings, after, environments)) {
      if (already.has(`${reference}@${environment}`)) continue;
      const name = `${holder}/${reference}`;
      broken.set(name, [...(broken.get(name) ?? []), environment]);
    }
  }
  if (broken.size === 0) return;
  throw new ConfigException(
    ConfigExceptionCode.Conflict,
    `these settings of ${namespace} would leave failover chains naming endpoints that do not resolve where they apply: ` +
      `${describeAll([...broken], actor, { one: 'a chain', many: 'chains' }).text}; write the endpoints in those environments, or change the chains, first`,
    'environments',
  );
}

/**
 * Every (`<chain> -> <endpoint>`, environment) among `rows` where, in one of `environments`, the chain resolves and
 * the endpoint does not.
 */
function danglingReferences(
  rows: readonly LatestRow[],
  settings: NamespaceSettingsService,
  effective: EffectiveSettings,
  environments: ReadonlySet<string>,
): Array<[string, string]> {
  const resolve = resolverOf(rows);
  const chainKeys = [...new Set(rows.map((row) => row.key).filter((key) => nameOf('failover_chain', key) !== undefined))].sort();
  const dangling: Array<[string, string]> = [];
  for (const environment of environments) {
    const order = settings.resolutionOrder(effective.settings, environment);
    for (const chainKey of chainKeys) {
      const resolved = resolve(chainKey, order);
      if (!resolved) continue;
      for (const name of endpointsOf(resolved.value)) {
        if (!resolve(`${LLM_CONFIG_KINDS.model_endpoint.prefix}.${name}`, order)) dangling.push([`${chainKey} -> ${name}`, environment]);
      }
    }
  }
  return dangling;
}

/**
 * `name (in env, env)` for each item, naming only environments the caller may read (an error must not show what a
 * read would refuse): the rest become "environments you may not read", and items found only there are counted.
 * `named` says how many items the text names.
 */
function describeAll(
  items: ReadonlyArray<[string, string[]]>,
  actor: ConfigActor,
  noun: { one: string; many: string },
): { text: string; named: number } {
  const hiddenPlace = 'environments you may not read';
  let hiddenItems = 0;
  const named: string[] = [];
  for (const [name, where] of items) {
    const shown = where.filter((environment) => canRead(actor, environment));
    if (shown.length === 0) {
      hiddenItems++;
      continue;
    }
    named.push(`${name} (in ${shown.join(', ')}${shown.length < where.length ? ` and ${hiddenPlace}` : ''})`);
  }
  const text = [...named];
  if (hiddenItems > 0) text.push(`${hiddenItems === 1 ? noun.one : `${hiddenItems} ${noun.many}`} in ${hiddenPlace}`);
  return { text: text.join(', '), named: named.length };
}

/** The environment chain settings define, least specific first (the default when they name none). */
function chainOf(effective: EffectiveSettings): readonly string[] {
  return effective.settings.environments.length > 0 ? effective.settings.environments : DEFAULT_ENVIRONMENT_CHAIN;
}

/**
 * The latest version of `key` and of every key starting with `prefix.` in `namespace`, per environment, with the
 * environments to consider (the namespace's chain, plus any either was written in) and how each resolves.
 */
async function latestOf(manager: EntityManager, schema: string, settings: NamespaceSettingsService, namespace: string, key: string, prefix: string) {
  const rows: LatestRow[] = await manager.query(
    `SELECT DISTINCT ON (key, environment) key, environment, value, deleted FROM ${schema}.config_entries
      WHERE namespace = $1 AND (key = $2 OR starts_with(key, $3))
      ORDER BY key, environment, version DESC`,
    [namespace, key, `${prefix}.`],
  );
  const effective = await settings.effective(namespace, manager);
  return {
    rows,
    environments: environmentsToCheck(effective, rows),
    orderOf: (environment: string): string[] => settings.resolutionOrder(effective.settings, environment),
    resolve: resolverOf(rows),
  };
}

/** The namespace's environment chain, plus any environment one of `rows` was written in. */
function environmentsToCheck(effective: EffectiveSettings, rows: readonly LatestRow[]): Set<string> {
  return new Set([...chainOf(effective), ...rows.map((row) => row.environment).sort()]);
}

/** The live version of `wanted` that a read in resolution order `order` finds among `rows`. */
function resolverOf(rows: readonly LatestRow[]): (wanted: string, order: string[]) => LatestRow | undefined {
  return (wanted, order) =>
    order.map((environment) => rows.find((row) => row.key === wanted && row.environment === environment)).find((row) => row !== undefined && !row.deleted);
}

/** The endpoints a chain names, read defensively: a chain stored before its schema was enforced may have any shape. */
function endpointsOf(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const { primary, fallbacks } = value as { primary?: unknown; fallbacks?: unknown };
  return [primary, ...(Array.isArray(fallbacks) ? fallbacks : [])].filter((name): name is string => typeof name === 'string');
}
