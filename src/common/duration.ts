/**
 * Durations written the way people write them in the organization file and in workflow
 * policies: `7d`, `36h`, `90m`, `2s`, `500ms`. Workflow-safe.
 */
import ms from 'ms';
import { z } from 'zod';

/** Milliseconds in a duration string, or undefined when it is not one. */
export function parseDuration(value: string): number | undefined {
  const parsed: unknown = ms(value.trim() as ms.StringValue);
  return typeof parsed === 'number' && Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
}

/** A non-negative duration string such as `7d`, `2h` or `30s`. */
export const durationString = z
  .string()
  .refine((value) => parseDuration(value) !== undefined, {
    message: 'must be a duration such as "7d", "12h", "30m" or "10s"',
  });

export function durationMs(value: string): number {
  const parsed = parseDuration(value);
  if (parsed === undefined) throw new RangeError(`"${value}" is not a duration such as "7d" or "12h"`);
  return parsed;
}
