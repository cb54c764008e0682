/**
 * A nonconformity's id (its format, and its allocation from the records store's sequence,
 * the same id for the same key) and severity, on their own so forms and the corrective-action
 * domain can both use them without importing each other. Workflow-safe.
 */
import { z } from 'zod';
import type { RecordsStore } from '../records/types.js';

/** `NC-2027-004`: the year it was raised and a number within that year. */
export const ncIdSchema = z.string().regex(/^NC-\d{4}-\d{3,}$/, 'must be an NC id such as NC-2027-004');

export const severities = ['major', 'minor'] as const;
export type Severity = (typeof severities)[number];

/** `NC-2027-004` from a year and a number in that year. */
export function formatNcId(year: number, n: number): string {
  return `NC-${year}-${String(n).padStart(3, '0')}`;
}

/** The sequence scope NC numbers of a year are allocated from. */
export function ncSequenceScope(year: number): string {
  return `nonconformity/${year}`;
}

/** The NC id for `key` in `year`: the same key always gets the same id. */
export async function allocateNcId(records: Pick<RecordsStore, 'allocateSequence'>, year: number, key: string): Promise<string> {
  return formatNcId(year, await records.allocateSequence(ncSequenceScope(year), key));
}
