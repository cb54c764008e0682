/**
 * Completed management reviews (ISO/IEC 42001 9.3) read from the evidence ledger: one
 * `management-review.completed` record per review, written when top management approves the
 * results. Used for certification readiness ("a management review is complete") and for the
 * list of past reviews. A ledger that cannot be read is reported as unavailable with the
 * reason, never as "no reviews".
 */
import type { EvidenceRecord, RecordsStore } from '../records/types.js';

export const COMPLETED_KIND = 'management-review.completed';
export const SUBJECT_PREFIX = 'management-review/';

export interface CompletedReview {
  reviewId: string;
  workflowId: string;
  meetingDate: string;
  approvedAt: string;
  actions: number;
}

const PAGE = 1000;
const DAY_MS = 86_400_000;
const dateOnly = /^\d{4}-\d{2}-\d{2}$/;

/** A period bound as an ISO instant; a date `to` counts as its whole day. */
function bound(value: string, end: boolean): string {
  const ms = Date.parse(value) + (end && dateOnly.test(value) ? DAY_MS : 0);
  if (Number.isNaN(ms)) throw new RangeError(`"${value}" is not a date or an ISO-8601 date-time`);
  return new Date(ms).toISOString();
}

/** Every `management-review.completed` record, optionally within `[from, to)`, in ledger order. */
export async function completedReviewRecords(
  records: Pick<RecordsStore, 'list'>,
  period?: { from: string; to: string },
): Promise<EvidenceRecord[]> {
  const out: EvidenceRecord[] = [];
  for (let afterSeq = 0; ; ) {
    const page = await records.list({
      kind: COMPLETED_KIND,
      subjectPrefix: SUBJECT_PREFIX,
      ...(period ? { from: bound(period.from, false), to: bound(period.to, true) } : {}),
      afterSeq,
      limit: PAGE,
    });
    out.push(...page);
    const last = page.at(-1);
    if (!last || page.length < PAGE) return out;
    afterSeq = last.seq;
  }
}

/** A record's content as an object (empty when it is not one). */
export const contentOf = (content: unknown): Record<string, unknown> =>
  content && typeof content === 'object' && !Array.isArray(content) ? (content as Record<string, unknown>) : {};

export function completedReviewOf(record: EvidenceRecord): CompletedReview {
  const c = contentOf(record.content);
  return {
    reviewId: typeof c.reviewId === 'string' ? c.reviewId : record.subject.slice(SUBJECT_PREFIX.length),
    workflowId: typeof c.workflowId === 'string' ? c.workflowId : record.subject,
    meetingDate: typeof c.meetingDate === 'string' ? c.meetingDate : '',
    approvedAt: typeof c.approvedAt === 'string' ? c.approvedAt : record.occurredAt,
    actions: Array.isArray(c.actions) ? c.actions.length : 0,
  };
}

/**
 * Reviews whose results top management approved within the period (`from` inclusive, `to`
 * exclusive; a date `to` counts as its whole day), oldest first; one entry per review.
 */
export async function completedReviews(
  records: Pick<RecordsStore, 'list'>,
  period: { from: string; to: string },
): Promise<CompletedReview[] | { available: false; reason: string }> {
  try {
    const found = await completedReviewRecords(records, period);
    const byReview = new Map<string, CompletedReview>();
    for (const record of found) {
      const review = completedReviewOf(record);
      if (!byReview.has(review.workflowId)) byReview.set(review.workflowId, review);
    }
    return [...byReview.values()];
  } catch (err) {
    return { available: false, reason: `the evidence ledger could not be read: ${err instanceof Error ? err.message : String(err)}` };
  }
}
