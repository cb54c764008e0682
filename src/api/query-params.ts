/**
 * Query-string parameters shared by admin list routes, with errors that name the problem.
 */
import { z } from 'zod';

/** `true` / `false` in a query string, as a boolean. */
export function booleanParam(description: string) {
  return z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true'))
    .describe(description);
}

const periodDate = z
  .string()
  .refine(
    (v) => z.iso.date().safeParse(v).success || z.iso.datetime({ offset: true }).safeParse(v).success,
    'must be a date (2027-01-31) or an ISO-8601 date-time',
  );

/** `from` and `to` of a reporting period (see `summaryPeriod`), for a query's shape. */
export const periodParams = {
  from: periodDate.optional().describe('Start of the period (inclusive); default one year before `to`'),
  to: periodDate.optional().describe('End of the period (a date counts as its whole day); default now'),
};

/** A page size between 1 and `max`. */
export function limitParam(max: number, defaultLimit: number) {
  return z
    .string()
    .regex(/^\d{1,4}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(max, `must be at most ${max}`))
    .optional()
    .describe(`At most this many (default ${defaultLimit})`);
}
