import { z } from 'zod';
import { AuthException, AuthExceptionCode } from '../exceptions/auth.exception.js';
import { isTimeZone, parseCidr, type RoleBinding } from '../rbac/role-binding.js';
import { PERMISSIONS } from '../rbac/permissions.js';
import { ROLES } from '../rbac/roles.js';
import { PRINCIPAL_TYPES } from './principal.js';

/** Validation for identity that crosses a trust boundary as data: JWT claims and gRPC metadata. */
export const roleSchema = z.enum(ROLES, { error: (issue) => `unknown role ${JSON.stringify(issue.input)}` });
export const permissionSchema = z.enum(PERMISSIONS, {
  error: (issue) => `unknown permission ${JSON.stringify(issue.input)}`,
});
export const principalTypeSchema = z.enum(PRINCIPAL_TYPES);
export const principalIdSchema = z.string().min(1).max(256);

const hourSchema = z.number().int().min(0).max(24);
const minuteSchema = z.number().int().min(0).max(59);

export const roleBindingSchema = z.strictObject({
  role: roleSchema,
  environments: z.array(z.string().min(1).max(64)).min(1).optional(),
  tenantId: z.string().min(1).max(256).optional(),
  conditions: z
    .strictObject({
      timeWindow: z
        .strictObject({
          days: z.array(z.number().int().min(0).max(6)).optional(),
          startHour: hourSchema.max(23),
          startMinute: minuteSchema.optional(),
          endHour: hourSchema,
          endMinute: minuteSchema.optional(),
          timezone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin').optional(),
        })
        .refine((window) => window.endHour < 24 || !window.endMinute, 'endHour 24 takes no minutes')
        .refine(
          (window) => window.startHour * 60 + (window.startMinute ?? 0) !== window.endHour * 60 + (window.endMinute ?? 0),
          'start and end must differ',
        )
        .optional(),
      ipAllowlist: z
        .array(z.string().refine((entry) => parseCidr(entry) !== undefined, 'must be a CIDR such as 10.0.0.0/8'))
        .optional(),
    })
    .optional(),
});

/** Validates stored role bindings, like parseRoles: a binding that does not validate is an error, never dropped. */
export function parseRoleBindings(value: unknown): RoleBinding[] {
  const parsed = z.array(roleBindingSchema).safeParse(value);
  if (!parsed.success) {
    throw new AuthException(AuthExceptionCode.PrincipalInvalid, `role bindings are invalid: ${firstIssue(parsed.error)}`);
  }
  return parsed.data;
}

/** The first problem in a failed parse, as `path: message`. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  return issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}
