/**
 * Admin routes over the evidence ledger: list with filters (each record marked verified or
 * not), verify the hash chain (every break listed), and download the audit pack as NDJSON.
 * Registered inside the admin scope (API key required).
 */
import { Readable } from 'node:stream';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { anchorText, MAX_ANCHORS, parseAnchors } from '../../records/anchors.js';
import { RecordValidationError } from '../../records/errors.js';
import { exportRecords } from '../../records/export.js';
import { MAX_REPORTED_BREAKS } from '../../records/verify.js';
import type { RecordFilter } from '../../records/types.js';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, recordFilterSchema } from '../../records/validation.js';
import { errorResponses, errorResponseSchema, HttpError } from '../errors.js';
import { adminSecurity, requirePermission } from '../plugins/admin-auth.js';
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

export const checkedRecordSchema = evidenceRecordSchema
  .extend({
    verified: z
      .boolean()
      .describe('False for records at or after the first break in the hash chain: the chain no longer vouches for them'),
  })
  .describe('CheckedEvidenceRecord');

export const ledgerStatusSchema = z
  .object({
    intact: z.boolean().describe('No break anywhere in the ledger, as of this read'),
    verifiedThrough: z.number().int().describe('Records with a seq up to this one are verified; later ones are not'),
    note: z.string().optional().describe('When some records are unverified: which ones, and how to list the breaks'),
  })
  .describe('LedgerStatus');

const listResponseSchema = z.object({
  records: z.array(checkedRecordSchema),
  nextAfterSeq: z
    .number()
    .int()
    .nullable()
    .describe('Pass as afterSeq to get the next page; null when this page is the last'),
  ledger: ledgerStatusSchema,
});

export const ledgerBreakSchema = z
  .object({
    seq: z.number().int().describe('Seq of the broken record; for `missing` and `head-missing`, the first seq that is not there'),
    id: z.string().nullable().describe('Id of the broken record; null when no record is at that seq'),
    kinds: z
      .array(
        z.enum([
          'content-hash',
          'record-hash',
          'prev-link',
          'seq-gap',
          'seq-order',
          'missing',
          'head-mismatch',
          'head-missing',
          'beyond-head',
          'anchor-mismatch',
          'anchor-beyond-head',
        ]),
      )
      .describe(
        'What is wrong: `content-hash` content edited; `record-hash` a hashed field edited; `prev-link` the link to the previous record broken ' +
          '(that record rewritten, or this link edited); `seq-gap` records before it missing; `missing` records up to the ledger head missing; ' +
          '`head-mismatch` the last record rewritten; `head-missing` the ledger head deleted; `beyond-head` inserted past the ledger head; ' +
          '`anchor-mismatch` the first record that differs from an anchored chain (the chain was changed and rebuilt); ' +
          '`anchor-beyond-head` an anchor past the ledger head',
      ),
    reason: z.string().describe('The same in words'),
  })
  .describe('LedgerBreak');

const verifyFacts = {
  records: z.number().int().describe('Records read'),
  head: z.string().describe('Hash of the last record read (the ledger head when ok)'),
  verifiedThrough: z
    .number()
    .int()
    .describe('Records with a seq up to this one are verified: they and every record before them check out, and the next record or the ledger head confirms them'),
  breaks: z.array(ledgerBreakSchema).describe(`Every broken record in seq order (at most ${MAX_REPORTED_BREAKS})`),
  breakCount: z.number().int().describe('Breaks found, including any beyond the listed ones'),
  anchors: z
    .array(
      z.object({
        seq: z.number().int(),
        hash: z.string(),
        status: z.enum(['match', 'mismatch', 'beyond-head']),
        recomputed: z.string().optional().describe('The hash the chain recomputed from the first record has at seq'),
      }),
    )
    .optional()
    .describe('With `anchor` given: the verdict on each anchor, in the order given'),
};

/** `anchor=<seq>:<hash>`, repeatable or comma-separated. */
const anchorParam = z
  .union([z.string(), z.array(z.string())], { error: 'must be <seq>:<hash>' })
  .transform((value, ctx) => {
    const { anchors, problems } = parseAnchors(Array.isArray(value) ? value : [value]);
    for (const message of problems) ctx.addIssue({ code: 'custom', message });
    return anchors;
  });

export const verifyQuerySchema = z.strictObject({
  anchor: anchorParam
    .optional()
    .describe(
      `A known ledger head, \`<seq>:<hash>\` (e.g. from the anchor mail); repeat it or separate several with commas (at most ${MAX_ANCHORS}). ` +
        'The chain recomputed from the first record must have that hash at that seq.',
    ),
});

export const ledgerAnchorSchema = z
  .object({
    seq: z.number().int().describe('The anchored head: seq of the last record'),
    hash: z.string().describe('Its hash'),
    at: z.string().describe('When the head was captured'),
    previousSeq: z.number().int().describe('Seq of the anchor before it (0 for the first)'),
    publishedAt: z.string().nullable().describe('When it was mailed outside the database (null: not yet)'),
    recipients: z.array(z.string()).describe('Who it was mailed to (person ids)'),
    anchor: z.string().describe('`<seq>:<hash>`, as verify takes it'),
  })
  .describe('LedgerAnchor');

export const verifyResultSchema = z
  .discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), ...verifyFacts }),
    z.object({
      ok: z.literal(false),
      ...verifyFacts,
      brokenAt: z.number().int().describe('Seq of the first break'),
      reason: z.string().describe('Reason of the first break'),
    }),
  ])
  .describe('VerifyResult');

const authResponses = {
  ...errorResponses,
  401: errorResponseSchema.describe('Not signed in, or a missing or wrong API key'),
  403: errorResponseSchema.describe('The principal may not do this; the message names the permission and the principal'),
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
      preValidation: requirePermission('records.read'),
      schema: {
        tags: ['records'],
        summary: 'List evidence records',
        description:
          'Records in chain order, filtered; page with `afterSeq` = the previous `nextAfterSeq`. Each record says whether the hash chain ' +
          'vouches for it (`verified`); `ledger` says how far the chain is verified, with a note when records are unverified. ' +
          'The chain is checked before answering: records appended since the last check are hashed, and a change in the database ' +
          'to records already checked makes the whole chain be verified again.',
        security: adminSecurity,
        querystring: listQuerySchema,
        response: { 200: listResponseSchema, ...authResponses },
      },
    },
    async (request) => {
      const filter: RecordFilter = dropUndefined({ ...request.query, limit: request.query.limit ?? DEFAULT_LIST_LIMIT });
      const { records, ledger } = await app.deps.records.read(filter).catch(asBadRequest);
      const last = records.at(-1);
      return { records, nextAfterSeq: last && records.length === filter.limit ? last.seq : null, ledger };
    },
  );

  app.get(
    '/records/verify',
    {
      preValidation: requirePermission('records.verify'),
      schema: {
        tags: ['records'],
        summary: 'Verify the hash chain',
        description:
          'Recomputes every hash in one pass over the whole chain and checks the ledger head; `ok: false` lists every broken record ' +
          'by seq and id with what is wrong (`breaks`), and `verifiedThrough` says up to which record the chain vouches for the records. ' +
          'Without an anchor this cannot show a chain rebuilt after a change (every later hash and the head recomputed); with `anchor`, ' +
          'the recomputed chain must reach each anchored hash, and a mismatch names the first record that differs from the anchored chain.',
        security: adminSecurity,
        querystring: verifyQuerySchema,
        response: { 200: verifyResultSchema, ...authResponses },
      },
    },
    async (request) => {
      const anchors = request.query.anchor ?? [];
      const result = await app.deps.records.verify(anchors.length ? { anchors } : {});
      if (!result.ok) {
        request.log.error(
          { breakCount: result.breakCount, verifiedThrough: result.verifiedThrough, breaks: result.breaks.slice(0, 20) },
          'evidence ledger failed verification',
        );
      }
      return result;
    },
  );

  app.get(
    '/records/anchors',
    {
      preValidation: requirePermission('records.read'),
      schema: {
        tags: ['records'],
        summary: 'Ledger heads captured and published outside the database',
        description:
          'Every anchor captured by the daily anchor run, oldest first: the head (seq, hash, time), and when and to whom it was mailed. ' +
          'Pass one you received by mail as `anchor` to `/admin/records/verify`.',
        security: adminSecurity,
        response: { 200: z.object({ items: z.array(ledgerAnchorSchema) }), ...authResponses },
      },
    },
    async () => {
      const anchors = await app.deps.records.anchors.list();
      return { items: anchors.map(({ recordHashes: _hashes, ...a }) => ({ ...a, anchor: anchorText(a) })) };
    },
  );

  app.get(
    '/records/export',
    {
      preValidation: requirePermission('records.export'),
      schema: {
        tags: ['records'],
        summary: 'Download the audit pack (NDJSON)',
        description:
          'NDJSON audit pack: a header line (filter, chain verification with every break), one line per evidence record in chain order ' +
          '(with `verified`: false at or after the first break), and an end line with the count.',
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
