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

/**
 * The tz database name `name` is known by, in the spelling ICU gives it (`europe/berlin` is
 * `Europe/Berlin`, `Asia/Kolkata` may be `Asia/Calcutta`), or undefined when it names no time
 * zone. Offsets such as `+01:00`, which newer ICU versions accept, are not tz names.
 */
export function canonicalTimeZone(name: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_+/-]{0,63}$/.test(name)) return undefined;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    return /^[A-Za-z]/.test(resolved) ? resolved : undefined;
  } catch {
    return undefined;
  }
}

/** An IANA time zone name such as `Europe/Berlin` or `UTC`. */
export const timeZoneName = z
  .string()
  .min(1)
  .max(64)
  .refine((value) => canonicalTimeZone(value) !== undefined, 'must be an IANA time zone such as "Europe/Berlin" or "UTC"');
