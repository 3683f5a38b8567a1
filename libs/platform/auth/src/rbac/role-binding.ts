import { BlockList, isIP } from 'node:net';
import type { Role } from './roles.js';

/** Hours are UTC; start is inclusive, end exclusive; start > end wraps past midnight (22–6). */
export interface TimeWindow {
  /** UTC days of the week the window is open, 0 = Sunday; omitted = every day. */
  days?: number[];
  startHour: number;
  endHour: number;
  timezone?: 'UTC';
}

export interface BindingConditions {
  timeWindow?: TimeWindow;
  /** CIDRs (or single addresses), IPv4 and IPv6. */
  ipAllowlist?: string[];
}

/** A role held under ABAC conditions; when a condition fails the binding grants nothing. */
export interface RoleBinding {
  role: Role;
  conditions?: BindingConditions;
}

export interface ConditionContext {
  ip?: string;
  now?: Date;
}

/** Why the binding's conditions do not hold, or undefined when they all do. */
export function unmetCondition(conditions: BindingConditions | undefined, context: ConditionContext): string | undefined {
  if (!conditions) return undefined;
  if (conditions.timeWindow) {
    const failure = outsideTimeWindow(conditions.timeWindow, context.now ?? new Date());
    if (failure) return failure;
  }
  if (conditions.ipAllowlist) return outsideIpAllowlist(conditions.ipAllowlist, context.ip);
  return undefined;
}

function outsideTimeWindow(window: TimeWindow, now: Date): string | undefined {
  const day = now.getUTCDay();
  const hour = now.getUTCHours();
  const describe = `${window.startHour}:00–${window.endHour}:00 UTC${window.days ? ` on days ${window.days.join(',')}` : ''}`;
  if (window.days && !window.days.includes(day)) return `outside its time window (${describe})`;
  const inHours =
    window.startHour < window.endHour
      ? hour >= window.startHour && hour < window.endHour
      : window.startHour > window.endHour && (hour >= window.startHour || hour < window.endHour);
  return inHours ? undefined : `outside its time window (${describe})`;
}

function outsideIpAllowlist(allowlist: string[], ip: string | undefined): string | undefined {
  if (!ip) return 'has an IP allowlist but the request carries no client address';
  const address = normalizeIp(ip);
  const family = isIP(address);
  if (family === 0) return `client address ${JSON.stringify(ip)} is not an IP address`;
  const blockList = compiledAllowlist(allowlist);
  if (blockList instanceof Error) return blockList.message;
  return blockList.check(address, family === 4 ? 'ipv4' : 'ipv6') ? undefined : `client address ${ip} is not in its IP allowlist`;
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
    if (!cidr) return new Error(`IP allowlist entry ${JSON.stringify(entry)} is not a CIDR`);
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
