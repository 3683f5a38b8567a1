import { z } from 'zod';

/** Versions are PostgreSQL integers (and int32 in some contracts): a larger one is a 400, not an overflow later. */
export const MAX_VERSION = 2_147_483_647;

/**
 * A query-string integer. Digits only (Number() would take '', '1e3', '0x10' and ' 7'), and at most 15 of them so it
 * stays an exact JavaScript number and int64 alike. A missing required parameter says so.
 */
export function queryInteger(min: number, max: number, message: string): z.ZodType<number, string> {
  return z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : message) })
    .regex(/^\d{1,15}$/, message)
    .transform(Number)
    .refine((value) => value >= min && value <= max, message);
}
