/**
 * Calendar dates (YYYY-MM-DD) checked by their parts. zod's own ISO date pattern refuses valid
 * dates inside the Temporal workflow sandbox, so every schema that workflow code evaluates uses
 * this one. Workflow-safe.
 */
import { z } from 'zod';

export function isCalendarDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export const calendarDate = z.string().refine(isCalendarDate, 'must be a date as YYYY-MM-DD');
