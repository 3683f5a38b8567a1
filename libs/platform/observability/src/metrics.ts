import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';

export interface MetricsRegistryOptions {
  service: string;
  /** Process metrics (CPU, memory, event loop lag, GC); on by default. */
  collectDefaults?: boolean;
}

/** A registry whose every metric carries `service`, with Node's process metrics collected. */
export function createMetricsRegistry(options: MetricsRegistryOptions): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.collectDefaults ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

type MetricClass<M> = abstract new (...args: never[]) => M;

/**
 * Services restart in-process under the launcher and register their metrics again on the same registry;
 * prom-client throws on a duplicate name, so hand back the metric that is already there.
 */
function getOrCreate<M>(registry: Registry, name: string, kind: MetricClass<M>, create: () => M): M {
  const existing: unknown = registry.getSingleMetric(name);
  if (existing === undefined) return create();
  if (existing instanceof kind) return existing;
  throw new Error(`metric "${name}" is already registered with a different type`);
}

export type MetricConfig<C> = Omit<C, 'registers'>;

export function getOrCreateCounter<L extends string>(
  registry: Registry,
  config: MetricConfig<CounterConfiguration<L>>,
): Counter<L> {
  return getOrCreate(registry, config.name, Counter<L>, () => new Counter<L>({ ...config, registers: [registry] }));
}

export function getOrCreateGauge<L extends string>(
  registry: Registry,
  config: MetricConfig<GaugeConfiguration<L>>,
): Gauge<L> {
  return getOrCreate(registry, config.name, Gauge<L>, () => new Gauge<L>({ ...config, registers: [registry] }));
}

export function getOrCreateHistogram<L extends string>(
  registry: Registry,
  config: MetricConfig<HistogramConfiguration<L>>,
): Histogram<L> {
  return getOrCreate(
    registry,
    config.name,
    Histogram<L>,
    () => new Histogram<L>({ ...config, registers: [registry] }),
  );
}
