import { Counter, Gauge, type Registry } from 'prom-client';

type CountPending = () => Promise<number>;

/**
 * Outbox metrics, one set per registry and labelled by schema: in the all-in-one process every service runs its
 * own relay against the same registry, and a metric name can be registered only once.
 */
export class OutboxMetrics {
  private static readonly byRegistry = new WeakMap<Registry, OutboxMetrics>();

  readonly published: Counter<'schema'>;
  readonly publishFailures: Counter<'schema'>;
  private readonly pendingCounters = new Map<string, CountPending>();

  static for(registry: Registry): OutboxMetrics {
    let metrics = OutboxMetrics.byRegistry.get(registry);
    if (!metrics) {
      metrics = new OutboxMetrics(registry);
      OutboxMetrics.byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  private constructor(registry: Registry) {
    const pendingCounters = this.pendingCounters;
    new Gauge({
      name: 'outbox_pending',
      help: 'Events written to the outbox and not yet published to the bus',
      labelNames: ['schema'],
      registers: [registry],
      // Counted at scrape time rather than on every poll, so an idle relay costs one cheap query per poll only.
      async collect() {
        for (const [schema, countPending] of pendingCounters) {
          try {
            this.set({ schema }, await countPending());
          } catch {
            // Database unreachable: keep the last value; the readiness check reports the outage.
          }
        }
      },
    });
    this.published = new Counter({
      name: 'outbox_published_total',
      help: 'Events published from the outbox to the bus',
      labelNames: ['schema'],
      registers: [registry],
    });
    this.publishFailures = new Counter({
      name: 'outbox_publish_failures_total',
      help: 'Relay batches stopped because publishing an event failed',
      labelNames: ['schema'],
      registers: [registry],
    });
  }

  trackPending(schema: string, countPending: CountPending): () => void {
    this.pendingCounters.set(schema, countPending);
    return () => this.pendingCounters.delete(schema);
  }
}
