import { z } from 'zod';

/** One problem with one environment variable, as shown to the operator. */
export interface EnvIssue {
  variable: string;
  message: string;
}

/** Thrown at start-up when the environment does not satisfy the app's schema; names every bad variable. */
export class EnvValidationError extends Error {
  constructor(
    readonly service: string,
    readonly issues: EnvIssue[],
  ) {
    super(
      `Invalid environment for ${service}:\n` + issues.map((i) => `  - ${i.variable}: ${i.message}`).join('\n'),
    );
    this.name = 'EnvValidationError';
  }
}

const sensitiveVariables = new WeakSet<z.ZodType>();

/** Marks a variable as a secret: its value is never echoed in a validation message. */
export function sensitive<T extends z.ZodType>(schema: T): T {
  sensitiveVariables.add(schema);
  return schema;
}

export type EnvSource = Record<string, string | undefined>;

/**
 * Validates `source` against `schema` once. Empty strings count as unset, so `FOO=` in a .env file falls back to
 * the default instead of failing a URL or number check.
 */
export function parseEnv<S extends z.ZodObject>(service: string, schema: S, source: EnvSource = process.env): z.infer<S> {
  const input: EnvSource = {};
  for (const key of Object.keys(schema.shape)) {
    const value = source[key];
    if (value !== undefined && value.trim() !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue): EnvIssue => {
    const variable = String(issue.path[0] ?? '(environment)');
    const field = (schema.shape as Record<string, z.ZodType>)[variable];
    const raw = input[variable];
    const shown = raw === undefined ? 'unset' : field && isSensitive(field) ? 'value hidden' : `got ${JSON.stringify(raw)}`;
    return { variable, message: `${issue.message} (${shown})` };
  });
  throw new EnvValidationError(service, issues);
}

function isSensitive(schema: z.ZodType): boolean {
  let current: z.ZodType | undefined = schema;
  while (current) {
    if (sensitiveVariables.has(current)) return true;
    const inner: unknown = (current as unknown as { unwrap?: () => unknown }).unwrap?.();
    current = inner instanceof z.ZodType ? inner : undefined;
  }
  return false;
}
