import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { createMetricsRegistry, getOrCreateCounter, getOrCreateGauge, getOrCreateHistogram } from './metrics.js';

describe(createMetricsRegistry.name, () => {
  it('labels every metric with the service and collects process metrics', async () => {
    const registry = createMetricsRegistry({ service: 'audit-service' });
    getOrCreateCounter(registry, { name: 'events_total', help: 'events' }).inc();
    const text = await registry.metrics();
    expect(text).toContain('events_total{service="audit-service"} 1');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('returns the registered metric when a restarted service registers it again', () => {
    const registry = new Registry();
    const first = getOrCreateCounter(registry, { name: 'requests_total', help: 'requests', labelNames: ['route'] });
    const second = getOrCreateCounter(registry, { name: 'requests_total', help: 'requests', labelNames: ['route'] });
    expect(second).toBe(first);
    expect(getOrCreateGauge(registry, { name: 'queue_depth', help: 'depth' })).toBe(
      getOrCreateGauge(registry, { name: 'queue_depth', help: 'depth' }),
    );
    expect(getOrCreateHistogram(registry, { name: 'latency_seconds', help: 'latency' })).toBe(
      getOrCreateHistogram(registry, { name: 'latency_seconds', help: 'latency' }),
    );
  });

  it('refuses to hand back a metric of another type under the same name', () => {
    const registry = new Registry();
    getOrCreateCounter(registry, { name: 'jobs', help: 'jobs' });
    expect(() => getOrCreateGauge(registry, { name: 'jobs', help: 'jobs' })).toThrow('different type');
  });
});
