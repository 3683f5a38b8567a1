import { z } from 'zod';
import { queryInteger } from '../access/query-integer.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';

/** `?details.<field>=<value>` filters an entry's detail fields; the service hashes the value of a sensitive field. */
export const DETAIL_FILTER_PREFIX = 'details.';
export const DETAIL_FIELD_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_DETAIL_FILTERS = 10;
const MAX_DETAIL_VALUE_LENGTH = 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function integerParameter(min: 0 | 1): z.ZodType<number, string> {
  return queryInteger(min, Number.MAX_SAFE_INTEGER, min === 0 ? 'must be a non-negative integer' : 'must be a positive integer');
}

/** Cross-parameter checks run only once every parameter is valid on its own, so each problem is reported once. */
const whenValid = { when: (payload: { issues: readonly unknown[] }): boolean => payload.issues.length === 0 };

const dateTimeParameter = z.iso
  .datetime({
    offset: true,
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be an ISO 8601 date-time, e.g. 2025-01-31T00:00:00Z'),
  })
  // Year 0000 does not exist (PostgreSQL refuses it).
  .refine((value) => !value.startsWith('0000'), 'must be a date-time from year 0001 on');

const auditLogQuery = z.strictObject({
  from: dateTimeParameter.optional(),
  to: dateTimeParameter.optional(),
  actor_id: z.string().max(255).optional(),
  resource_type: z.string().max(100).optional(),
  resource_id: z.string().max(512).optional(),
  action: z.string().max(100).optional(),
  event_type: z.string().max(100).optional(),
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

export type AuditLogFilter = z.infer<typeof auditLogQuery> & { details: Record<string, string> };

/** `tree_size` absent means the newest signed tree head. */
export const treeSizeQuery = z.strictObject({ tree_size: integerParameter(1).optional() });

export const consistencyQuery = z
  .strictObject({ first: integerParameter(0), second: integerParameter(0) })
  .refine((query) => query.first <= query.second, { message: 'must not exceed second', path: ['first'], ...whenValid });

/** The segment [start, end) of the tree of size `tree_size`; `end` absent means the whole tree. */
export const exportQuery = z
  .strictObject({ start: integerParameter(0).optional(), end: integerParameter(1).optional(), tree_size: integerParameter(1).optional() })
  .refine((query) => query.end === undefined || (query.start ?? 0) < query.end, { message: 'must be greater than start', path: ['end'], ...whenValid });

export const complianceQuery = z
  .strictObject({ from: dateTimeParameter, to: dateTimeParameter, format: z.enum(['json', 'csv']).optional() })
  .refine((query) => Date.parse(query.from) < Date.parse(query.to), { message: 'must be after from', path: ['to'], ...whenValid });

export const verifyBody = z.strictObject({
  tree_size: z.number().int().min(1, 'must be a positive integer').max(Number.MAX_SAFE_INTEGER).optional(),
});

export const hashBody = z.strictObject({
  value: z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') }).max(4096),
});

/** Parses a query string with a strict schema; the message names each bad or unknown parameter. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const parsed = schema.safeParse(query ?? {});
  if (parsed.success) return parsed.data;
  throw new GatewayException(GatewayErrorCode.ValidationError, problemsOf(parsed.error).join('; '));
}

/** The list filters, plus up to ten `details.<field>=<value>` exact matches on detail fields. */
export function parseAuditLogQuery(query: Record<string, unknown> | undefined): AuditLogFilter {
  const plain: Record<string, unknown> = {};
  const details: Array<[string, string]> = [];
  const problems: string[] = [];
  for (const [name, value] of Object.entries(query ?? {})) {
    if (name === 'details') {
      problems.push('details: filter on a detail field with details.<field>=<value>, e.g. details.email=a@example.com');
    } else if (!name.startsWith(DETAIL_FILTER_PREFIX)) {
      plain[name] = value;
    } else {
      const problem = detailFilterProblem(name.slice(DETAIL_FILTER_PREFIX.length), value);
      if (problem) problems.push(`${shortened(name)}: ${problem}`);
      else details.push([name.slice(DETAIL_FILTER_PREFIX.length), value as string]);
    }
  }
  if (details.length > MAX_DETAIL_FILTERS) problems.push(`details: at most ${MAX_DETAIL_FILTERS} detail filters per query`);
  const parsed = auditLogQuery.safeParse(plain);
  if (!parsed.success) problems.unshift(...problemsOf(parsed.error));
  if (problems.length > 0 || !parsed.success) throw new GatewayException(GatewayErrorCode.ValidationError, problems.join('; '));
  // fromEntries defines own properties, so a field named __proto__ stays a filter instead of touching the prototype.
  return { ...parsed.data, details: Object.fromEntries(details) };
}

export function parseEntryId(id: string | undefined): string {
  if (typeof id !== 'string' || !UUID.test(id)) throw new GatewayException(GatewayErrorCode.ValidationError, 'id: must be a UUID');
  return id;
}

function detailFilterProblem(field: string, value: unknown): string | undefined {
  if (!DETAIL_FIELD_PATTERN.test(field)) return 'a detail field name is 1 to 64 characters of A-Z, a-z, 0-9, _, . and -';
  if (typeof value !== 'string') return 'must be given once';
  if (value.length > MAX_DETAIL_VALUE_LENGTH) return `must be at most ${MAX_DETAIL_VALUE_LENGTH} characters`;
  return undefined;
}

function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) =>
    issue.code === 'unrecognized_keys'
      ? `unknown query parameter(s): ${issue.keys.map(shortened).join(', ')}`
      : `${issue.path.length > 0 ? issue.path.join('.') : 'query'}: ${issue.message}`,
  );
}

/** Parameter names are echoed back; a hostile one should not make the message huge. */
function shortened(name: string): string {
  return name.length > 80 ? `${name.slice(0, 80)}…` : name;
}
