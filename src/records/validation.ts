/**
 * zod schemas for what callers hand the records store. Parsing normalizes: `occurredAt`
 * becomes a UTC millisecond ISO string and `content` the plain JSON value it serializes to,
 * so what is hashed is exactly what the database gives back.
 */
import { z } from 'zod';
import { RecordValidationError, type FieldProblem } from './errors.js';
import { canonicalJson } from './hash.js';
import type { NewRecord, RecordFilter, SentNotification } from './types.js';

/** Canonical JSON of `content` above this many bytes is refused. */
export const MAX_CONTENT_BYTES = 1024 * 1024;
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const text = (max: number) =>
  z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => s.trim() === s, 'must not start or end with white space')
    .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters');

const instant = z
  .iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time with a time zone, e.g. 2027-03-01T09:00:00Z' })
  .transform((s, ctx) => {
    const date = new Date(s);
    if (Number.isNaN(date.getTime())) {
      ctx.addIssue({ code: 'custom', message: 'is not a real date-time' });
      return z.NEVER;
    }
    return date.toISOString();
  });

/** ISO/IEC 42001 clause (`10.2`, `6.1.4`) or Annex A control (`A.6.2.8`). */
export const CLAUSE_PATTERN = /^(A\.)?\d{1,2}(\.\d{1,2}){0,3}$/;

const clause = z
  .string({ error: 'must be a string' })
  .regex(CLAUSE_PATTERN, 'must be a clause like 10.2 or an Annex A control like A.6.2.8');

/** A JSON value as it comes back from a jsonb column: no NUL characters anywhere in it. */
const jsonContent = z.unknown().transform((value, ctx) => {
  if (value === undefined) {
    ctx.addIssue({ code: 'custom', message: 'is required (any JSON value)' });
    return z.NEVER;
  }
  let json: string;
  try {
    json = canonicalJson(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `must be a JSON value (${(err as Error).message})` });
    return z.NEVER;
  }
  if (json.includes('\\u0000')) {
    ctx.addIssue({ code: 'custom', message: 'must not contain NUL characters (\\u0000)' });
    return z.NEVER;
  }
  if (Buffer.byteLength(json, 'utf8') > MAX_CONTENT_BYTES) {
    ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_CONTENT_BYTES} bytes as JSON` });
    return z.NEVER;
  }
  return JSON.parse(json) as unknown;
});

export const newRecordSchema = z.strictObject(
  {
    id: text(512),
    kind: text(100).regex(
      /^[A-Za-z0-9][A-Za-z0-9._:-]*$/,
      'must be letters, digits, dots, dashes, underscores or colons, e.g. task.completed',
    ),
    subject: text(512),
    clauses: z.array(clause, { error: 'must be an array of clause strings' }).max(100, 'must list at most 100 clauses'),
    actor: text(200),
    occurredAt: instant,
    content: jsonContent,
  },
  { error: (issue) => objectError(issue) },
);

export const recordFilterSchema = z
  .strictObject(
    {
      subject: text(512).optional(),
      subjectPrefix: text(512).optional(),
      kind: text(100).optional(),
      clause: clause.optional(),
      from: instant.optional(),
      to: instant.optional(),
      afterSeq: z.number({ error: 'must be a number' }).int('must be an integer').min(0, 'must be 0 or more').optional(),
      limit: z
        .number({ error: 'must be a number' })
        .int('must be an integer')
        .min(1, 'must be at least 1')
        .max(MAX_LIST_LIMIT, `must be at most ${MAX_LIST_LIMIT}`)
        .optional(),
    },
    { error: (issue) => objectError(issue) },
  )
  .refine((f) => !(f.from && f.to && f.from > f.to), { message: 'must not be before from', path: ['to'] });

export const sentNotificationSchema = z.strictObject(
  {
    notificationId: text(512),
    messageId: z.string({ error: 'must be a string' }).max(998, 'must be at most 998 characters'),
    recipients: z.array(text(320), { error: 'must be an array of addresses' }).max(1000, 'must list at most 1000 recipients'),
    sentAt: instant,
  },
  { error: (issue) => objectError(issue) },
);

/** Error map for the top-level objects: a clear type error, unknown fields listed by name. */
const objectError = (issue: { code?: string; keys?: string[]; input?: unknown }) => {
  if (issue.code === 'unrecognized_keys') return `unknown field${(issue.keys?.length ?? 0) > 1 ? 's' : ''} ${(issue.keys ?? []).join(', ')}`;
  if (issue.code === 'invalid_type') return 'must be an object';
  return undefined;
};

function problemsOf(error: z.ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.map(String).join('.') : '(value)',
    message: issue.message,
  }));
}

function parseWith<S extends z.ZodType>(schema: S, what: string, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new RecordValidationError(what, problemsOf(result.error));
  return result.data;
}

export function parseNewRecord(input: unknown): NewRecord {
  const { content, ...fields } = parseWith(newRecordSchema, 'record', input);
  return { ...fields, content };
}

export type ParsedFilter = Omit<RecordFilter, 'limit'> & { limit: number };

export function parseRecordFilter(input: unknown): ParsedFilter {
  const filter = parseWith(recordFilterSchema, 'record filter', input ?? {});
  return { ...filter, limit: filter.limit ?? DEFAULT_LIST_LIMIT };
}

export function parseSentNotification(input: unknown): SentNotification {
  return parseWith(sentNotificationSchema, 'sent notification', input);
}
