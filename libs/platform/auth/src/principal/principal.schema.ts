import { z } from 'zod';
import { parseCidr } from '../rbac/role-binding.js';
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

export const roleBindingSchema = z.strictObject({
  role: roleSchema,
  conditions: z
    .strictObject({
      timeWindow: z
        .strictObject({
          days: z.array(z.number().int().min(0).max(6)).optional(),
          startHour: hourSchema.max(23),
          endHour: hourSchema,
          timezone: z.literal('UTC').optional(),
        })
        .refine((window) => window.startHour !== window.endHour, 'startHour and endHour must differ')
        .optional(),
      ipAllowlist: z
        .array(z.string().refine((entry) => parseCidr(entry) !== undefined, 'must be a CIDR such as 10.0.0.0/8'))
        .optional(),
    })
    .optional(),
});

/** The first problem in a failed parse, as `path: message`. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  return issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}
