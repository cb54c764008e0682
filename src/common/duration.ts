/**
 * Durations written the way people write them in the organization file and in workflow
 * policies: `7d`, `36h`, `90m`, `2s`, `500ms`. Workflow-safe.
 */
import ms from 'ms';
import { z } from 'zod';

/** The longest duration a schema accepts: longer ones overflow the date arithmetic of due dates and timers. */
export const MAX_DURATION_MS = 100 * 365.25 * 24 * 3600_000;

/** Milliseconds in a duration string, or undefined when it is not one (empty, negative or unreadable). */
export function parseDuration(value: string): number | undefined {
  const text = value.trim();
  // `ms` throws on an empty string, and reads no string longer than 100 characters.
  if (text === '' || text.length > 100) return undefined;
  const parsed: unknown = ms(text as ms.StringValue);
  return typeof parsed === 'number' && Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
}

/** A non-negative duration string such as `7d`, `2h` or `30s`, of at most 100 years. */
export const durationString = z
  .string()
  .refine((value) => parseDuration(value) !== undefined, {
    message: 'must be a duration such as "7d", "12h", "30m" or "10s"',
  })
  .refine((value) => (parseDuration(value) ?? 0) <= MAX_DURATION_MS, { message: 'must be at most 100 years' });

export function durationMs(value: string): number {
  const parsed = parseDuration(value);
  if (parsed === undefined) throw new RangeError(`"${value}" is not a duration such as "7d" or "12h"`);
  return parsed;
}
