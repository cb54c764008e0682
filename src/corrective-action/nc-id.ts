/**
 * A nonconformity's id and severity, on their own so forms and the corrective-action domain
 * can both use them without importing each other. Workflow-safe.
 */
import { z } from 'zod';

/** `NC-2027-004`: the year it was raised and a number within that year. */
export const ncIdSchema = z.string().regex(/^NC-\d{4}-\d{3,}$/, 'must be an NC id such as NC-2027-004');

export const severities = ['major', 'minor'] as const;
export type Severity = (typeof severities)[number];
