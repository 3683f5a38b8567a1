import { ROLES } from '@llmops/platform-auth';
import { z } from 'zod';
import { queryInteger } from '../access/query-integer.js';
import { tenantIdSchema } from '../role-bindings/role-binding-requests.js';

/** NIST SP 800-63B: at least 8, we ask 12; the upper bound keeps a hash request from becoming a denial of service. */
export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 1024;

export const createUserBody = z.strictObject({
  email: z.email({ message: 'must be an email address' }).max(255),
  password: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
    .max(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`),
  /** Roles held unconditionally; narrow or condition them afterwards with PUT /users/{id}/role-bindings. */
  roles: z
    .array(z.enum(ROLES, { error: (issue) => `unknown role ${JSON.stringify(issue.input)}; known roles are ${ROLES.join(', ')}` }))
    .max(ROLES.length)
    .optional(),
  /** The tenant the user belongs to, for good; omitted: the caller's own tenant (none for a platform-wide admin). */
  tenant_id: tenantIdSchema.optional(),
});

export const listUsersQuery = z.strictObject({
  limit: queryInteger(1, 1000, 'must be an integer from 1 to 1000').optional(),
  cursor: z.uuid({ message: 'must be the next_cursor of the previous page' }).optional(),
  tenant_id: tenantIdSchema.optional(),
});
