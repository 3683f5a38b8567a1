import type { ConfigEntryEntity } from '../configs/config-entry.entity.js';
import { assertEnvironment, assertNamespace, selfAndAncestors } from '../configs/config-path.js';
import type { ConfigActor, ConfigsService } from '../configs/configs.service.js';
import { ConfigException, ConfigExceptionCode } from '../configs/exceptions/config.exception.js';
import {
  BUILT_IN_PRESETS,
  keyOf,
  LLM_CONFIG_KINDS,
  LLM_CONFIG_NAME,
  LLM_PROVIDERS,
  nameOf,
  type FailoverChain,
  type LlmConfigKindName,
  type LlmProvider,
  type ModelPrice,
  type ModelPricing,
} from './llm-config-kinds.js';
import { describe, kindLabelOf, LlmConfigValidator } from './llm-config-validator.js';

export interface LlmConfigRef {
  kind: LlmConfigKindName;
  namespace: string;
  name: string;
  environment: string;
}

/** A typed config as stored, or a built-in preset (`entry` absent). */
export interface LlmConfigRecord {
  kind: LlmConfigKindName;
  namespace: string;
  name: string;
  value: unknown;
  entry?: ConfigEntryEntity;
}

/** One model a `pricing.<provider>` config prices. */
export interface PricedModel {
  provider: LlmProvider;
  model: string;
  price: ModelPrice;
}

/**
 * Model endpoints, failover chains, parameter presets and pricing as configs of a known kind: each is validated by
 * its built-in schema, then written through ConfigsService as `<prefix>.<name>`, so it is versioned, audited,
 * watched, cached and inherited through the environment chain like any config. Reads check the stored value again:
 * a value written through the plain config API that does not fit its kind is refused rather than served as typed.
 */
export class LlmConfigsService {
  private readonly validator = new LlmConfigValidator();

  constructor(private readonly configs: ConfigsService) {}

  async put(actor: ConfigActor, ref: LlmConfigRef & { value: unknown; expectedVersion?: number }): Promise<LlmConfigRecord> {
    const key = this.keyOf(ref);
    const value = this.validator.assertValid(ref.kind, key, ref.value);
    if (ref.kind === 'failover_chain') await this.assertEndpointsExist(actor, ref, value as FailoverChain);
    const entry = await this.configs.set(actor, {
      namespace: ref.namespace,
      key,
      environment: ref.environment,
      value,
      expectedVersion: ref.expectedVersion,
    });
    return { kind: ref.kind, namespace: ref.namespace, name: ref.name, value: entry.value, entry };
  }

  async get(actor: ConfigActor, ref: LlmConfigRef): Promise<LlmConfigRecord> {
    const key = this.keyOf(ref);
    try {
      const { entry } = await this.configs.get(actor, { namespace: ref.namespace, key, environment: ref.environment });
      return this.typed(ref.kind, ref.name, entry);
    } catch (error) {
      const builtIn = ref.kind === 'parameter_preset' ? BUILT_IN_PRESETS[ref.name] : undefined;
      if (!builtIn || !(error instanceof ConfigException) || error.code !== ConfigExceptionCode.NotFound) throw error;
      return { kind: ref.kind, namespace: ref.namespace, name: ref.name, value: { ...builtIn } };
    }
  }

  /** The configs of `kind` in `namespace` as `environment` resolves them, by name; presets include the built-in ones. */
  async list(actor: ConfigActor, kind: LlmConfigKindName, namespace: string, environment: string): Promise<LlmConfigRecord[]> {
    const records = new Map<string, LlmConfigRecord>();
    if (kind === 'parameter_preset') {
      // Permission is checked by the list below; built-ins are only added once it passed.
      for (const [name, preset] of Object.entries(BUILT_IN_PRESETS)) records.set(name, { kind, namespace, name, value: { ...preset } });
    }
    for (const { entry } of await this.configs.list(actor, namespace, environment)) {
      const name = nameOf(kind, entry.key);
      if (name !== undefined) records.set(name, this.typed(kind, name, entry));
    }
    return [...records.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * The price of `model` from `pricing.<provider>`: the namespace's own, else its nearest ancestor's that lists the
   * model, so an organisation prices once and a team may override one model.
   */
  async priceOf(actor: ConfigActor, ref: { namespace: string; environment: string; provider: string; model: string }): Promise<ModelPrice> {
    if (!(LLM_PROVIDERS as readonly string[]).includes(ref.provider)) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, `provider ${JSON.stringify(ref.provider)} must be one of ${LLM_PROVIDERS.join(', ')}`, 'provider');
    }
    const segments = ref.namespace.split('/');
    for (let length = segments.length; length > 0; length--) {
      const namespace = segments.slice(0, length).join('/');
      try {
        const pricing = await this.get(actor, { kind: 'model_pricing', namespace, name: ref.provider, environment: ref.environment });
        const { models } = pricing.value as ModelPricing;
        // Own keys only: a model named __proto__ or toString must not find Object.prototype's.
        if (Object.hasOwn(models, ref.model)) return models[ref.model]!;
      } catch (error) {
        if (!(error instanceof ConfigException) || error.code !== ConfigExceptionCode.NotFound) throw error;
      }
    }
    throw new ConfigException(
      ConfigExceptionCode.Conflict,
      `no price for ${ref.provider}/${ref.model}: write ${keyOf('model_pricing', ref.provider)} with models.${JSON.stringify(ref.model)} in ${ref.namespace} or an ancestor (${ref.environment})`,
      'model',
    );
  }

  /**
   * Every model the pricing of `namespace` and its ancestors lists, each at the price priceOf finds for it (the nearest
   * namespace's), by provider and model.
   */
  async priceList(actor: ConfigActor, ref: { namespace: string; environment: string }): Promise<PricedModel[]> {
    const mostSpecificFirst = selfAndAncestors(ref.namespace).reverse();
    const pricings = await Promise.all(mostSpecificFirst.map((namespace) => this.list(actor, 'model_pricing', namespace, ref.environment)));
    const priced = new Map<string, PricedModel>();
    for (const record of pricings.flat()) {
      if (!(LLM_PROVIDERS as readonly string[]).includes(record.name)) continue;
      for (const [model, price] of Object.entries((record.value as ModelPricing).models)) {
        const key = JSON.stringify([record.name, model]);
        if (!priced.has(key)) priced.set(key, { provider: record.name as LlmProvider, model, price });
      }
    }
    return [...priced.values()].sort((a, b) => a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model));
  }

  private keyOf(ref: LlmConfigRef): string {
    assertNamespace(ref.namespace);
    assertEnvironment(ref.environment);
    const definition = LLM_CONFIG_KINDS[ref.kind];
    if (ref.kind === 'model_pricing') {
      if (!(LLM_PROVIDERS as readonly string[]).includes(ref.name)) {
        throw new ConfigException(ConfigExceptionCode.InvalidPath, `provider ${JSON.stringify(ref.name)} must be one of ${LLM_PROVIDERS.join(', ')}`, 'name');
      }
    } else if (!LLM_CONFIG_NAME.test(ref.name)) {
      throw new ConfigException(ConfigExceptionCode.InvalidPath, `${definition.nameIs} ${JSON.stringify(ref.name)} must match ${LLM_CONFIG_NAME.source}`, 'name');
    }
    return keyOf(ref.kind, ref.name);
  }

  private typed(kind: LlmConfigKindName, name: string, entry: ConfigEntryEntity): LlmConfigRecord {
    const { problems } = this.validator.check(kind, entry.value);
    if (problems.length > 0) {
      throw new ConfigException(
        ConfigExceptionCode.Conflict,
        `${entry.namespace}/${entry.key} in ${entry.environment} (version ${entry.version}) is not a valid ${kindLabelOf(kind)}, so it is not served as one; ` +
          `write it again through the LLM config API: ${describe(problems)}`,
      );
    }
    return { kind, namespace: entry.namespace, name, value: entry.value, entry };
  }

  /** A chain may only name endpoints the same namespace resolves in the same environment. */
  private async assertEndpointsExist(actor: ConfigActor, ref: LlmConfigRef, chain: FailoverChain): Promise<void> {
    const members = [{ name: chain.primary, field: 'value.primary' }, ...chain.fallbacks.map((name, index) => ({ name, field: `value.fallbacks.${index}` }))];
    for (const member of members) {
      try {
        await this.get(actor, { kind: 'model_endpoint', namespace: ref.namespace, name: member.name, environment: ref.environment });
      } catch (error) {
        if (!(error instanceof ConfigException) || error.code !== ConfigExceptionCode.NotFound) throw error;
        throw new ConfigException(
          ConfigExceptionCode.InvalidValue,
          `${member.field} names endpoint ${member.name}, but ${ref.namespace}/${keyOf('model_endpoint', member.name)} does not exist in ${ref.environment}`,
          member.field,
        );
      }
    }
  }
}
