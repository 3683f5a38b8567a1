import type { HostedService } from './hosted-service.js';

export class UnknownDependencyError extends Error {
  constructor(
    readonly service: string,
    readonly dependency: string,
  ) {
    super(`service "${service}" depends on unknown service "${dependency}"`);
    this.name = 'UnknownDependencyError';
  }
}

export class DependencyCycleError extends Error {
  /** The services in the cycle, first one repeated at the end: each depends on the next. */
  constructor(readonly cycle: readonly string[]) {
    super(`dependency cycle: ${cycle.join(' -> ')}`);
    this.name = 'DependencyCycleError';
  }
}

/**
 * Orders services so each starts after its dependencies (Kahn's algorithm). Among services that are ready at the
 * same time the earliest registered goes first, so the order is stable and predictable from registration.
 */
export function resolveStartOrder(services: readonly HostedService[]): HostedService[] {
  const indexByName = new Map<string, number>();
  services.forEach((service, index) => {
    if (indexByName.has(service.name)) throw new Error(`service "${service.name}" is registered twice`);
    indexByName.set(service.name, index);
  });

  const dependencies = services.map((service) =>
    [...new Set(service.dependsOn)].map((dependency) => {
      const index = indexByName.get(dependency);
      if (index === undefined) throw new UnknownDependencyError(service.name, dependency);
      return index;
    }),
  );
  const dependents = services.map((): number[] => []);
  dependencies.forEach((deps, index) => deps.forEach((dep) => dependents[dep]!.push(index)));
  const inDegree = dependencies.map((deps) => deps.length);

  const ready = inDegree.flatMap((degree, index) => (degree === 0 ? [index] : []));
  const order: number[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => a - b);
    const next = ready.shift()!;
    order.push(next);
    for (const dependent of dependents[next]!) {
      inDegree[dependent]! -= 1;
      if (inDegree[dependent] === 0) ready.push(dependent);
    }
  }

  if (order.length < services.length) {
    const cycle = findCycle(dependencies, (index) => inDegree[index]! > 0);
    throw new DependencyCycleError(cycle.map((index) => services[index]!.name));
  }
  return order.map((index) => services[index]!);
}

/** Every service Kahn's algorithm left behind waits on another one left behind, so following those edges loops. */
function findCycle(dependencies: readonly number[][], leftOver: (index: number) => boolean): number[] {
  const path: number[] = [];
  const positionInPath = new Map<number, number>();
  let current = dependencies.findIndex((_, index) => leftOver(index));
  while (!positionInPath.has(current)) {
    positionInPath.set(current, path.length);
    path.push(current);
    current = dependencies[current]!.find(leftOver)!;
  }
  return [...path.slice(positionInPath.get(current)), current];
}
