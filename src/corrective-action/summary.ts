/**
 * Nonconformities and corrective actions as an input to management review (ISO/IEC 42001
 * 9.3.2 d): counts by state and severity and the overdue count from Temporal visibility;
 * closures, the average days to close and the effectiveness results of a period from the
 * evidence ledger. A source that cannot be read is reported as unavailable with the reason,
 * never as zero, so a review pack never shows "0 overdue" because a server was down.
 *
 * Plain functions over a Temporal client and a records store: the API calls them, and an
 * activity can call them for the management-review workflow.
 */
import type { Client } from '@temporalio/client';
import type { RecordsStore } from '../records/types.js';
import { listNonconformities } from './visibility.js';

export interface Unavailable {
  available: false;
  reason: string;
}

export interface VisibilitySummary {
  available: true;
  /** Every NC on the task queue, open or closed. */
  total: number;
  open: number;
  /** NCs per state: the step an open NC is in, or `closed` / `cancelled`. */
  byState: Record<string, number>;
  bySeverity: Record<string, number>;
  /** Open past the overall target. */
  overdue: number;
  /** Started within the period. */
  raisedInPeriod: number;
}

export interface LedgerSummary {
  available: true;
  closedInPeriod: number;
  /** Mean days from raising to closure of the NCs closed in the period; null when none closed. */
  averageDaysToClose: number | null;
  /** Effectiveness reviews recorded in the period. */
  effectiveness: { effective: number; notEffective: number };
}

export interface NonconformitySummary {
  period: { from: string; to: string };
  visibility: VisibilitySummary | Unavailable;
  ledger: LedgerSummary | Unavailable;
}

export interface SummaryDeps {
  client: Client;
  taskQueue: string;
  records: Pick<RecordsStore, 'list' | 'get'>;
}

/** Most NCs read from visibility for one summary. */
export const SUMMARY_NC_LIMIT = 10_000;
const LEDGER_PAGE = 1000;
const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;

/**
 * The period `[from, to)` as ISO instants: a date for `to` counts as its whole day; `to`
 * defaults to now and `from` to one year before `to`.
 */
export function summaryPeriod(input: { from?: string | undefined; to?: string | undefined }, now = new Date()): { from: string; to: string } {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/;
  const toMs = input.to ? Date.parse(input.to) + (dateOnly.test(input.to) ? DAY_MS : 0) : now.getTime();
  const fromMs = input.from ? Date.parse(input.from) : toMs - YEAR_MS;
  if (Number.isNaN(fromMs) || Number.isNaN(toMs)) throw new RangeError('from and to must be dates or ISO-8601 date-times');
  if (fromMs >= toMs) throw new RangeError('from must be before to');
  return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
}

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function visibilitySummary(deps: SummaryDeps, period: { from: string; to: string }): Promise<VisibilitySummary> {
  const items = await listNonconformities(deps.client, deps.taskQueue, {}, SUMMARY_NC_LIMIT);
  const byState: Record<string, number> = {};
  const bySeverity: Record<string, number> = {};
  let open = 0;
  let overdue = 0;
  let raisedInPeriod = 0;
  for (const item of items) {
    byState[item.state] = (byState[item.state] ?? 0) + 1;
    const severity = item.severity ?? 'unknown';
    bySeverity[severity] = (bySeverity[severity] ?? 0) + 1;
    if (item.executionStatus === 'RUNNING' && item.state !== 'closed' && item.state !== 'cancelled') open += 1;
    if (item.overdue) overdue += 1;
    if (item.startedAt >= period.from && item.startedAt < period.to) raisedInPeriod += 1;
  }
  return { available: true, total: items.length, open, byState, bySeverity, overdue, raisedInPeriod };
}

/** Every corrective-action record of `kind` that occurred in the period, page by page. */
async function recordsOf(records: SummaryDeps['records'], kind: string, period: { from: string; to: string }) {
  const out = [];
  for (let afterSeq = 0; ; ) {
    const page = await records.list({ kind, subjectPrefix: 'corrective-action/', from: period.from, to: period.to, afterSeq, limit: LEDGER_PAGE });
    out.push(...page);
    const last = page.at(-1);
    if (!last || page.length < LEDGER_PAGE) return out;
    afterSeq = last.seq;
  }
}

const contentOf = (content: unknown): Record<string, unknown> =>
  content && typeof content === 'object' && !Array.isArray(content) ? (content as Record<string, unknown>) : {};

async function ledgerSummary(records: SummaryDeps['records'], period: { from: string; to: string }): Promise<LedgerSummary> {
  const closures = await recordsOf(records, 'nonconformity.closed', period);
  const durations: number[] = [];
  for (const closed of closures) {
    // The raised record sits beside the closed one: `<workflowId>/<runId>/raised`.
    const raised = closed.id.endsWith('/closed') ? await records.get(`${closed.id.slice(0, -'closed'.length)}raised`) : undefined;
    const raisedAt = contentOf(raised?.content).raisedAt;
    const closedAt = contentOf(closed.content).closedAt;
    const start = typeof raisedAt === 'string' ? Date.parse(raisedAt) : NaN;
    const end = typeof closedAt === 'string' ? Date.parse(closedAt) : Date.parse(closed.occurredAt);
    if (!Number.isNaN(start) && !Number.isNaN(end)) durations.push((end - start) / DAY_MS);
  }
  const reviews = await recordsOf(records, 'nonconformity.effectiveness', period);
  const answers = reviews.map((r) => contentOf(contentOf(r.content).data).answer);
  const average = durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : null;
  return {
    available: true,
    closedInPeriod: closures.length,
    averageDaysToClose: average === null ? null : Math.round(average * 100) / 100,
    effectiveness: {
      effective: answers.filter((a) => a === 'yes').length,
      notEffective: answers.filter((a) => a === 'no').length,
    },
  };
}

/** The summary for `period` (see `summaryPeriod`); each source is read on its own and may be unavailable. */
export async function summarizeNonconformities(deps: SummaryDeps, period: { from: string; to: string }): Promise<NonconformitySummary> {
  const [visibility, ledger] = await Promise.all([
    visibilitySummary(deps, period).catch((err: unknown): Unavailable => ({ available: false, reason: `Temporal visibility: ${reasonOf(err)}` })),
    ledgerSummary(deps.records, period).catch((err: unknown): Unavailable => ({ available: false, reason: `evidence ledger: ${reasonOf(err)}` })),
  ]);
  return { period, visibility, ledger };
}
