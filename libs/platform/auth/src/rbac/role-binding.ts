import { BlockList, isIP } from 'node:net';
import type { Role } from './roles.js';

/**
 * When a binding applies, in local time of `timezone` (UTC when omitted): start is inclusive, end exclusive, and a
 * start later than the end wraps past midnight (22:00–06:00). Minutes default to 0.
 */
export interface TimeWindow {
  /** Days of the week (in `timezone`) the window is open, 0 = Sunday; omitted = every day. */
  days?: number[];
  startHour: number;
  startMinute?: number;
  /** 0–24; 24 (with no minutes) is midnight at the end of the day. */
  endHour: number;
  endMinute?: number;
  /** An IANA time zone such as `Europe/Berlin`. */
  timezone?: string;
}

export interface BindingConditions {
  timeWindow?: TimeWindow;
  /** CIDRs (or single addresses), IPv4 and IPv6. */
  ipAllowlist?: string[];
}

/** A role held under ABAC conditions; when a condition fails the binding grants nothing. */
export interface RoleBinding {
  role: Role;
  /**
   * Narrows the role's environment-scoped grants to these environments (never widens them). A narrowed binding
   * grants an environment-scoped permission only to a request that names one of them.
   */
  environments?: string[];
  /** The tenant the binding acts in; tenant checks compare against it instead of the principal's tenant. */
  tenantId?: string;
  conditions?: BindingConditions;
}

export interface ConditionContext {
  ip?: string;
  now?: Date;
}

/**
 * Why the binding's conditions do not hold, or undefined when they all do. Written to follow "role <name> is …", as
 * authorize() reports it.
 */
export function unmetCondition(conditions: BindingConditions | undefined, context: ConditionContext): string | undefined {
  if (!conditions) return undefined;
  if (conditions.timeWindow) {
    const failure = outsideTimeWindow(conditions.timeWindow, context.now ?? new Date());
    if (failure) return failure;
  }
  if (conditions.ipAllowlist) return outsideIpAllowlist(conditions.ipAllowlist, context.ip);
  return undefined;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

function outsideTimeWindow(window: TimeWindow, now: Date): string | undefined {
  const timezone = window.timezone ?? 'UTC';
  const start = window.startHour * 60 + (window.startMinute ?? 0);
  const end = window.endHour * 60 + (window.endMinute ?? 0);
  const days = window.days ? ` on ${window.days.map((day) => DAY_NAMES[day] ?? String(day)).join(',')}` : '';
  const description = `${clockTime(start)}–${clockTime(end)} ${timezone}${days}`;
  const local = localTimeIn(timezone, now);
  // An unknown zone cannot place "now" in the window: the binding fails closed.
  if (!local) return `outside its time window (${description}): unknown time zone`;
  if (window.days && !window.days.includes(local.day)) return `outside its time window (${description})`;
  const inside = start < end ? local.minute >= start && local.minute < end : start > end && (local.minute >= start || local.minute < end);
  return inside ? undefined : `outside its time window (${description})`;
}

function clockTime(minuteOfDay: number): string {
  return `${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}:${String(minuteOfDay % 60).padStart(2, '0')}`;
}

/** Formatters are costly to build and each binding names its zone: one per known zone (unknown ones are not kept). */
const formatters = new Map<string, Intl.DateTimeFormat>();

function localTimeIn(timezone: string, now: Date): { day: number; minute: number } | undefined {
  const formatter = formatterFor(timezone);
  if (!formatter) return undefined;
  const parts = Object.fromEntries(formatter.formatToParts(now).map((part) => [part.type, part.value]));
  const day = DAY_NAMES.indexOf(String(parts.weekday).toLowerCase() as (typeof DAY_NAMES)[number]);
  return { day, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

function formatterFor(timezone: string): Intl.DateTimeFormat | undefined {
  let formatter = formatters.get(timezone);
  if (formatter) return formatter;
  try {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  } catch {
    return undefined;
  }
  formatters.set(timezone, formatter);
  return formatter;
}

/** Whether `timezone` is a time zone this runtime knows (an IANA name such as `Europe/Berlin`, or `UTC`). */
export function isTimeZone(timezone: string): boolean {
  // Intl also takes offsets like "+01:00" on newer runtimes; bindings keep to names so they follow DST rules.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(timezone)) return false;
  return formatterFor(timezone) !== undefined;
}

function outsideIpAllowlist(allowlist: string[], ip: string | undefined): string | undefined {
  if (!ip) return 'restricted by an IP allowlist and the request carries no client address';
  const address = normalizeIp(ip);
  const family = isIP(address);
  if (family === 0) return `restricted by an IP allowlist and client address ${JSON.stringify(ip)} is not an IP address`;
  const blockList = compiledAllowlist(allowlist);
  if (blockList instanceof Error) return `restricted by an IP allowlist whose ${blockList.message}`;
  return blockList.check(address, family === 4 ? 'ipv4' : 'ipv6')
    ? undefined
    : `restricted by an IP allowlist (${allowlist.join(', ')}) and client address ${address} is not in it`;
}

/** Node reports IPv4 peers on dual-stack sockets as `::ffff:10.0.0.1`; match those against IPv4 ranges. */
function normalizeIp(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return mapped ? mapped[1]! : ip;
}

/** Allowlists arrive with every principal; compiling once per list object keeps authorize() cheap. */
const compiledAllowlists = new WeakMap<readonly string[], BlockList | Error>();

function compiledAllowlist(allowlist: readonly string[]): BlockList | Error {
  let compiled = compiledAllowlists.get(allowlist);
  if (!compiled) {
    compiled = compileAllowlist(allowlist);
    compiledAllowlists.set(allowlist, compiled);
  }
  return compiled;
}

function compileAllowlist(allowlist: readonly string[]): BlockList | Error {
  const blockList = new BlockList();
  for (const entry of allowlist) {
    const cidr = parseCidr(entry);
    if (!cidr) return new Error(`entry ${JSON.stringify(entry)} is not a CIDR`);
    blockList.addSubnet(cidr.network, cidr.prefix, cidr.family);
  }
  return blockList;
}

export function parseCidr(entry: string): { network: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [network = '', prefixText, ...rest] = entry.trim().split('/');
  const version = isIP(network);
  if (version === 0 || rest.length > 0) return undefined;
  const maxPrefix = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText ?? '0') || prefix > maxPrefix) return undefined;
  return { network, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}
