import { getOrCreateCounter } from '@llmops/platform-observability';
import type { Counter, Registry } from 'prom-client';
import { assertNamespace } from './config-path.js';
import { ConfigException } from './exceptions/config.exception.js';

export type ConfigOperation =
  | 'get'
  | 'set'
  | 'delete'
  | 'bulk'
  | 'history'
  | 'rollback'
  | 'undelete'
  | 'list'
  | 'child_namespaces'
  | 'watch_start'
  | 'watch_poll'
  | 'settings_get'
  | 'settings_set'
  | 'validate';

/** `config_operations_total{operation,namespace,status}`: status is `ok`, a ConfigExceptionCode in lower case, or `error`. */
export class ConfigOperationMetrics {
  private readonly operations: Counter<'operation' | 'namespace' | 'status'>;

  constructor(registry: Registry) {
    this.operations = getOrCreateCounter(registry, {
      name: 'config_operations_total',
      help: 'config-manager operations by operation, namespace (first two segments) and status',
      labelNames: ['operation', 'namespace', 'status'],
    });
  }

  /** Runs `run` and counts it; a bulk spanning several namespace labels counts under `(multiple)`. */
  async track<T>(operation: ConfigOperation, namespaces: string | readonly string[], run: () => Promise<T>): Promise<T> {
    const labels = [...new Set((typeof namespaces === 'string' ? [namespaces] : namespaces).map(namespaceLabel))];
    const namespace = labels.length === 1 ? labels[0]! : '(multiple)';
    try {
      const result = await run();
      this.operations.inc({ operation, namespace, status: 'ok' });
      return result;
    } catch (error) {
      this.operations.inc({ operation, namespace, status: error instanceof ConfigException ? error.code.toLowerCase() : 'error' });
      throw error;
    }
  }
}

/**
 * The first two segments (tenant/application by convention): deeper paths are per feature and grow without bound,
 * and every label value is a time series kept forever by Prometheus. Input that is not a valid namespace never
 * becomes a label value.
 */
export function namespaceLabel(namespace: string): string {
  if (namespace === '') return '(all)';
  try {
    assertNamespace(namespace);
  } catch {
    return '(invalid)';
  }
  return namespace.split('/').slice(0, 2).join('/');
}
