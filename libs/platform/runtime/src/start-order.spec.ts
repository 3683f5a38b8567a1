import { describe, expect, it } from '@jest/globals';
import type { HostedService } from './hosted-service.js';
import { DependencyCycleError, resolveStartOrder, UnknownDependencyError } from './start-order.js';

function service(name: string, dependsOn: string[] = []): HostedService {
  const noop = async (): Promise<void> => undefined;
  return { name, dependsOn, start: noop, stop: noop, health: async () => ({ healthy: true }) };
}

const names = (services: HostedService[]): string => services.map((s) => s.name).join(' → ');

describe(resolveStartOrder.name, () => {
  it('orders seed 004 example graph: Storage → Collector → Integrations → Processor → REST API → gRPC API', () => {
    const order = resolveStartOrder([
      service('Storage'),
      service('Collector'),
      service('Integrations'),
      service('Processor', ['Storage', 'Collector']),
      service('REST API', ['Processor', 'Storage']),
      service('gRPC API', ['Processor', 'Storage']),
    ]);
    expect(names(order)).toBe('Storage → Collector → Integrations → Processor → REST API → gRPC API');
  });

  it('puts dependencies first whatever the registration order, keeping registration order among peers', () => {
    const order = resolveStartOrder([
      service('api', ['db', 'cache']),
      service('worker', ['db']),
      service('cache'),
      service('db'),
    ]);
    expect(names(order)).toBe('cache → db → api → worker');
  });

  it('names the services of a cycle in the error', () => {
    const attempt = (): HostedService[] => resolveStartOrder([service('a', ['b']), service('b', ['a'])]);
    expect(attempt).toThrow(DependencyCycleError);
    expect(attempt).toThrow('a -> b -> a');
  });

  it('reports only the cycle, not the services waiting behind it', () => {
    let error: unknown;
    try {
      resolveStartOrder([service('gateway', ['a']), service('a', ['c']), service('b', ['a']), service('c', ['b']), service('db')]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DependencyCycleError);
    expect((error as DependencyCycleError).cycle).toEqual(['a', 'c', 'b', 'a']);
  });

  it('treats a service depending on itself as a cycle', () => {
    expect(() => resolveStartOrder([service('loop', ['loop'])])).toThrow('loop -> loop');
  });

  it('names an unknown dependency', () => {
    const attempt = (): HostedService[] => resolveStartOrder([service('processor', ['storage', 'colector']), service('storage')]);
    expect(attempt).toThrow(UnknownDependencyError);
    expect(attempt).toThrow('service "processor" depends on unknown service "colector"');
  });

  it('rejects two services with the same name', () => {
    expect(() => resolveStartOrder([service('db'), service('db')])).toThrow('"db" is registered twice');
  });
});
