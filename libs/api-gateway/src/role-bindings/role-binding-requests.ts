import { isTimeZone, parseCidr, ROLES, type RoleBinding, type TimeWindow } from '@llmops/platform-auth';
import { z } from 'zod';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';

export const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type DayName = (typeof DAY_NAMES)[number];

const MAX_BINDINGS = 50;
const MAX_SOURCE_IPS = 100;
const CLOCK_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

const clockTime = z.string().regex(CLOCK_TIME, 'must be a time HH:MM such as 09:00');
const endClockTime = z.string().refine((value) => value === '24:00' || CLOCK_TIME.test(value), 'must be a time HH:MM such as 17:30, or 24:00');

const timeWindowBody = z
  .strictObject({
    days: z
      .array(z.enum(DAY_NAMES, { error: `must be one of ${DAY_NAMES.join(', ')}` }))
      .min(1, 'must name at least one day')
      .optional(),
    start: clockTime,
    end: endClockTime,
    timezone: z.string().max(64).refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin or UTC'),
  })
  .refine((window) => window.start !== window.end, { message: 'must differ from start', path: ['end'] });

/** A tenant id as bindings, users and the list filter take it. */
export const tenantIdSchema = z.string().regex(/^[\w.-]{1,256}$/, 'must be 1 to 256 letters, digits, _, . or -');

const roleBindingBody = z.strictObject({
  role: z.enum(ROLES, { error: (issue) => `unknown role ${JSON.stringify(issue.input)}; known roles are ${ROLES.join(', ')}` }),
  environments: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be an environment name such as development'))
    .min(1, 'must name at least one environment (omit it for every environment)')
    .max(20)
    .optional(),
  conditions: z
    .strictObject({
      time_window: timeWindowBody.optional(),
      source_ips: z
        .array(z.string().max(64).refine((entry) => parseCidr(entry) !== undefined, 'must be a CIDR such as 10.0.0.0/8 or 127.0.0.1/32'))
        .min(1, 'must list at least one CIDR (omit it to allow every address)')
        .max(MAX_SOURCE_IPS)
        .optional(),
    })
    .optional(),
  tenant_id: tenantIdSchema.optional(),
});

/** The body of `PUT …/role-bindings`: the complete new set, replacing the old one. */
export const roleBindingsBody = z.strictObject({
  bindings: z.array(roleBindingBody).max(MAX_BINDINGS, `at most ${MAX_BINDINGS} bindings`),
});

export type RoleBindingBody = z.infer<typeof roleBindingBody>;

/** A validated binding as the authorization model holds it. */
export function roleBindingOf(body: RoleBindingBody): RoleBinding {
  const binding: RoleBinding = { role: body.role };
  if (body.environments) binding.environments = [...new Set(body.environments)];
  if (body.tenant_id !== undefined) binding.tenantId = body.tenant_id;
  const window = body.conditions?.time_window;
  const sourceIps = body.conditions?.source_ips;
  if (window || sourceIps) {
    binding.conditions = {};
    if (window) binding.conditions.timeWindow = timeWindowOf(window);
    if (sourceIps) binding.conditions.ipAllowlist = [...new Set(sourceIps.map((entry) => entry.trim()))];
  }
  return binding;
}

function timeWindowOf(window: z.infer<typeof timeWindowBody>): TimeWindow {
  const [startHour, startMinute] = window.start.split(':').map(Number) as [number, number];
  const [endHour, endMinute] = window.end.split(':').map(Number) as [number, number];
  const timeWindow: TimeWindow = { startHour, endHour, timezone: window.timezone };
  if (startMinute) timeWindow.startMinute = startMinute;
  if (endMinute) timeWindow.endMinute = endMinute;
  if (window.days) timeWindow.days = [...new Set(window.days)].map((day) => DAY_NAMES.indexOf(day)).sort();
  return timeWindow;
}

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const API_KEY_ID = /^[0-9A-Za-z]{17}$/;

/** A user id from a path: a UUID, or a 400 naming the parameter (PostgreSQL would refuse it with a 500). */
export function userIdOf(id: string | undefined): string {
  if (typeof id !== 'string' || !USER_ID.test(id)) throw new GatewayException(GatewayErrorCode.ValidationError, 'id: must be a user id (a UUID)');
  return id.toLowerCase();
}

/** An API key id from a path: the 17 letters and digits between the key's prefix and its secret. */
export function apiKeyIdOf(id: string | undefined): string {
  if (typeof id !== 'string' || !API_KEY_ID.test(id)) {
    throw new GatewayException(GatewayErrorCode.ValidationError, 'id: must be an API key id (17 letters and digits)');
  }
  return id;
}
