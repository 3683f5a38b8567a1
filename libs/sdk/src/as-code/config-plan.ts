import type { JsonValue } from '../http/config-api.js';
import type { NamespaceFile } from './namespace-file.js';

/** A key's live value in one environment and the version to check-and-set against. */
export interface LiveValue {
  value: JsonValue;
  version: number;
}

/** What the server holds for one namespace: key → environment → live value. */
export type NamespaceState = Map<string, Map<string, LiveValue>>;

/** One part of a value that differs; a missing `before` was added, a missing `after` removed. */
export interface ValueDifference {
  /** JSON Pointer into the value; "" for the value as a whole. */
  pointer: string;
  before?: JsonValue;
  after?: JsonValue;
}

/** One key in one environment, as the plan found it. */
export interface PlannedChange {
  namespace: string;
  key: string;
  environment: string;
  /** The live value; absent for a creation. */
  before?: JsonValue;
  /** The value in the files; absent for a deletion. */
  after?: JsonValue;
  /** The version the server must still be at when the plan is applied (0: the key must not exist). */
  expectedVersion: number;
  differences: ValueDifference[];
}

/** What applying the files would do, like `terraform plan`; each list is sorted by namespace, key, environment. */
export interface ConfigPlan {
  /** The namespaces the files manage: only their keys are created, changed or deleted. */
  namespaces: string[];
  create: PlannedChange[];
  update: PlannedChange[];
  delete: PlannedChange[];
  unchanged: PlannedChange[];
}

/**
 * Compares the files with what the server holds for the namespaces they manage. A key-environment pair only in the
 * files is created, one in both with another value updated, one only on the server deleted.
 */
export function planChanges(files: readonly NamespaceFile[], live: ReadonlyMap<string, NamespaceState>): ConfigPlan {
  const plan: ConfigPlan = { namespaces: files.map((file) => file.namespace).sort(), create: [], update: [], delete: [], unchanged: [] };
  for (const { namespace, keys } of files) {
    const state = live.get(namespace) ?? new Map<string, Map<string, LiveValue>>();
    for (const [key, environments] of Object.entries(keys)) {
      for (const [environment, after] of Object.entries(environments)) {
        const current = state.get(key)?.get(environment);
        if (current === undefined) {
          plan.create.push({ namespace, key, environment, after, expectedVersion: 0, differences: [{ pointer: '', after }] });
          continue;
        }
        const differences = valueDifferences(current.value, after);
        const change = { namespace, key, environment, before: current.value, after, expectedVersion: current.version, differences };
        (differences.length === 0 ? plan.unchanged : plan.update).push(change);
      }
    }
    for (const [key, environments] of state) {
      for (const [environment, current] of environments) {
        if (Object.hasOwn(keys, key) && Object.hasOwn(keys[key]!, environment)) continue;
        plan.delete.push({ namespace, key, environment, before: current.value, expectedVersion: current.version, differences: [{ pointer: '', before: current.value }] });
      }
    }
  }
  for (const list of [plan.create, plan.update, plan.delete, plan.unchanged]) list.sort(byPlace);
  return plan;
}

export function hasChanges(plan: ConfigPlan): boolean {
  return plan.create.length + plan.update.length + plan.delete.length > 0;
}

/**
 * Where two JSON values differ: objects field by field (in either order), arrays of one length item by item; anything
 * else that differs is one difference for the whole part.
 */
export function valueDifferences(before: JsonValue, after: JsonValue, pointer = ''): ValueDifference[] {
  if (isObject(before) && isObject(after)) {
    const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return fields.flatMap((field) => {
      const at = `${pointer}/${field.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!Object.hasOwn(after, field)) return [{ pointer: at, before: before[field]! }];
      if (!Object.hasOwn(before, field)) return [{ pointer: at, after: after[field]! }];
      return valueDifferences(before[field]!, after[field]!, at);
    });
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, index) => valueDifferences(item, after[index]!, `${pointer}/${index}`));
  }
  return before === after ? [] : [{ pointer, before, after }];
}

/** The plan as a person reads it: `+` create, `~` update (with what changed inside the value), `-` delete. */
export function formatPlan(plan: ConfigPlan): string {
  const lines: string[] = [];
  const place = (change: PlannedChange): string => `${change.namespace}/${change.key} [${change.environment}]`;
  for (const change of plan.create) lines.push(`  + ${place(change)} = ${JSON.stringify(change.after)}`);
  for (const change of plan.update) {
    lines.push(`  ~ ${place(change)}`);
    for (const difference of change.differences) {
      const before = difference.before === undefined ? '(absent)' : JSON.stringify(difference.before);
      const after = difference.after === undefined ? '(absent)' : JSON.stringify(difference.after);
      lines.push(`      ${difference.pointer === '' ? '(value)' : difference.pointer}: ${before} → ${after}`);
    }
  }
  for (const change of plan.delete) lines.push(`  - ${place(change)} (was ${JSON.stringify(change.before)})`);
  const managed = `Namespaces: ${plan.namespaces.join(', ') || '(none)'}`;
  if (!hasChanges(plan)) return `${managed}\nNo changes. ${plan.unchanged.length} unchanged.\n`;
  const summary = `Plan: ${plan.create.length} to create, ${plan.update.length} to change, ${plan.delete.length} to delete, ${plan.unchanged.length} unchanged.`;
  return `${managed}\n${lines.join('\n')}\n${summary}\n`;
}

function isObject(value: JsonValue): value is { [field: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function byPlace(a: PlannedChange, b: PlannedChange): number {
  return a.namespace.localeCompare(b.namespace) || a.key.localeCompare(b.key) || a.environment.localeCompare(b.environment);
}
