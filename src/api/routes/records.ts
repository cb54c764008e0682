/**
 * Admin routes over the evidence ledger: list with filters, verify the hash chain, and
 * download the audit pack as NDJSON. Registered inside the admin scope (API key required).
 */
import { Readable } from 'node:stream';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { RecordValidationError } from '../../records/errors.js';
import { exportRecords } from '../../records/export.js';
import type { RecordFilter } from '../../records/types.js';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, recordFilterSchema } from '../../records/validation.js';
import { errorResponses, errorResponseSchema, HttpError } from '../errors.js';
import { adminSecurity } from '../plugins/admin-auth.js';
import '../deps.js';

/** A query-string integer: digits only, then range-checked. */
const queryInt = (min: number, max?: number) => {
  let n = z.number().int().min(min, `must be at least ${min}`);
  if (max !== undefined) n = n.max(max, `must be at most ${max}`);
  return z
    .string({ error: 'must be given once, as a whole number' })
    .regex(/^\d{1,15}$/, 'must be a whole number')
    .transform(Number)
    .pipe(n);
};

const filterFields = recordFilterSchema.shape;

const exportQueryFields = {
  subject: filterFields.subject.describe('Exact subject, usually a workflow id'),
  subjectPrefix: filterFields.subjectPrefix.describe('Subject prefix, e.g. `corrective-action/`'),
  kind: filterFields.kind.describe('Record kind, e.g. `task.completed`'),
  clause: filterFields.clause.describe('Clause or Annex A control, e.g. `10.2` or `A.6.2.8`'),
  from: filterFields.from.describe('Occurred at or after (ISO-8601 with time zone)'),
  to: filterFields.to.describe('Occurred at or before (ISO-8601 with time zone)'),
};

const fromNotAfterTo = (q: { from?: string | undefined; to?: string | undefined }) => !(q.from && q.to && q.from > q.to);
const fromNotAfterToIssue = { message: 'must not be before from', path: ['to'] };

export const listQuerySchema = z
  .strictObject({
    ...exportQueryFields,
    afterSeq: queryInt(0).optional().describe('Only records after this sequence number (for paging)'),
    limit: queryInt(1, MAX_LIST_LIMIT).optional().describe(`Page size, default ${DEFAULT_LIST_LIMIT}`),
  })
  .refine(fromNotAfterTo, fromNotAfterToIssue);

export const exportQuerySchema = z
  .strictObject({
    ...exportQueryFields,
    afterSeq: queryInt(0).optional().describe('Only records after this sequence number (incremental exports)'),
    limit: queryInt(1).optional().describe('Export at most this many records (default: all)'),
  })
  .refine(fromNotAfterTo, fromNotAfterToIssue);

export const evidenceRecordSchema = z
  .object({
    seq: z.number().int().describe('Position in the chain, from 1'),
    id: z.string(),
    kind: z.string(),
    subject: z.string(),
    clauses: z.array(z.string()),
    actor: z.string(),
    occurredAt: z.string(),
    content: z.unknown(),
    contentHash: z.string().describe('sha256 of the canonical JSON of content'),
    prevHash: z.string(),
    hash: z.string(),
    recordedAt: z.string(),
  })
  .describe('EvidenceRecord');

const listResponseSchema = z.object({
  records: z.array(evidenceRecordSchema),
  nextAfterSeq: z
    .number()
    .int()
    .nullable()
    .describe('Pass as afterSeq to get the next page; null when this page is the last'),
});

export const verifyResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), records: z.number().int(), head: z.string() }),
  z.object({ ok: z.literal(false), records: z.number().int(), brokenAt: z.number().int(), reason: z.string() }),
]);

const authResponses = {
  ...errorResponses,
  401: errorResponseSchema.describe('Missing or wrong API key'),
} as const;

function asBadRequest(err: unknown): never {
  if (err instanceof RecordValidationError) {
    throw new HttpError(400, err.message, {
      issues: err.problems.map((p) => ({ path: p.field, message: p.message })),
      cause: err,
    });
  }
  throw err;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function exportFileName(now: Date): string {
  return `aimsflow-records-${now.toISOString().replace(/[:.]/g, '-')}.ndjson`;
}

export const recordsRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  app.get(
    '/records',
    {
      schema: {
        tags: ['records'],
        summary: 'List evidence records',
        description: 'Records in chain order, filtered; page with `afterSeq` = the previous `nextAfterSeq`.',
        security: adminSecurity,
        querystring: listQuerySchema,
        response: { 200: listResponseSchema, ...authResponses },
      },
    },
    async (request) => {
      const filter: RecordFilter = dropUndefined({ ...request.query, limit: request.query.limit ?? DEFAULT_LIST_LIMIT });
      const records = await app.deps.records.list(filter).catch(asBadRequest);
      const last = records.at(-1);
      return { records, nextAfterSeq: last && records.length === filter.limit ? last.seq : null };
    },
  );

  app.get(
    '/records/verify',
    {
      schema: {
        tags: ['records'],
        summary: 'Verify the hash chain',
        description: 'Recomputes every hash; `ok: false` names the first broken record and why.',
        security: adminSecurity,
        response: { 200: verifyResultSchema, ...authResponses },
      },
    },
    async (request) => {
      const result = await app.deps.records.verify();
      if (!result.ok) request.log.error({ verify: result }, 'evidence ledger failed verification');
      return result;
    },
  );

  app.get(
    '/records/export',
    {
      schema: {
        tags: ['records'],
        summary: 'Download the audit pack (NDJSON)',
        description:
          'NDJSON audit pack: a header line (filter, chain verification), one line per evidence record in chain order, and an end line with the count.',
        security: adminSecurity,
        querystring: exportQuerySchema,
        response: {
          200: {
            description: 'The audit pack, one JSON object per line',
            content: { 'application/x-ndjson': { schema: z.any().describe('`audit-pack` header, `record` lines, `end` line') } },
          },
          ...authResponses,
        },
      },
    },
    async (request, reply) => {
      const lines = exportRecords(app.deps.records, dropUndefined({ ...request.query }));
      // The header line (filter check and chain verification) is produced before answering,
      // so a bad filter or a store that is down gets a proper error status rather than a
      // truncated download.
      const header = await lines.next().catch(asBadRequest);
      async function* body(): AsyncGenerator<string> {
        if (!header.done) yield header.value;
        yield* lines;
      }
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="${exportFileName(new Date())}"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(body()));
    },
  );
  done();
};
