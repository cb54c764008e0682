/**
 * The performance figures management review input (d) gathers instead of asking for them
 * (9.1, 9.3.2 d): for each objective measured in the period its latest value, target, at-risk
 * threshold, trend, misses and series; and the awareness of the AI policy (7.3), the share of
 * the people in scope who acknowledged its latest approved version. Read from the evidence
 * ledger; a ledger that cannot be read is reported as unavailable by the caller, never as zero.
 */
import type { EvidenceRecord, RecordsStore } from '../records/types.js';
import { trendOf, type Evaluation, type MetricDirection, type Trend } from './schema.js';

export interface ObjectivePoint {
  at: string;
  value: number;
  evaluation: Evaluation;
}

export interface ObjectiveFigure {
  objectiveId: string;
  statement: string;
  metric: { name: string; unit: string; direction: MetricDirection };
  target: number;
  atRisk: number;
  latest: ObjectivePoint;
  trend: Trend;
  measurements: number;
  /** Values off target in the period. */
  misses: number;
  /** Misses in a row ending with the latest value. */
  missesInRow: number;
  series: ObjectivePoint[];
}

export interface AwarenessFigure {
  /** The latest approved policy version with acknowledgements requested, or null when none was. */
  version: number | null;
  approvedAt: string | null;
  inScope: number;
  acknowledged: number;
  /** Acknowledged ÷ in scope, 0-1 (null with nobody in scope). */
  rate: number | null;
  /** Who has not acknowledged yet. */
  pending: string[];
}

const PAGE = 1000;

/** Every record of `kind` (within the period, when given), oldest first. */
export async function recordsOfKind(records: Pick<RecordsStore, 'list'>, kind: string, period?: { from?: string; to?: string }): Promise<EvidenceRecord[]> {
  const out: EvidenceRecord[] = [];
  for (let afterSeq = 0; ; ) {
    const page = await records.list({ kind, ...(period?.from ? { from: period.from } : {}), ...(period?.to ? { to: period.to } : {}), afterSeq, limit: PAGE });
    out.push(...page);
    const last = page.at(-1);
    if (!last || page.length < PAGE) return out;
    afterSeq = last.seq;
  }
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);

/** The objectives measured within `[from, to)`, from their `objective.measured` records. */
export async function objectiveFigures(records: Pick<RecordsStore, 'list'>, period: { from: string; to: string }): Promise<ObjectiveFigure[]> {
  const measured = await recordsOfKind(records, 'objective.measured', period);
  const byObjective = new Map<string, EvidenceRecord[]>();
  for (const r of measured) {
    const id = str(obj(r.content).objectiveId, r.subject.replace(/^objective\//, ''));
    byObjective.set(id, [...(byObjective.get(id) ?? []), r]);
  }
  const figures: ObjectiveFigure[] = [];
  for (const [objectiveId, list] of [...byObjective].sort(([a], [b]) => a.localeCompare(b))) {
    const points = list
      .map((r) => ({ c: obj(r.content), at: r.occurredAt }))
      .filter(({ c }) => num(c.value) !== undefined)
      .map(({ c, at }) => ({ c, point: { at: str(c.at, at), value: num(c.value) ?? 0, evaluation: str(c.evaluation, 'on-target') as Evaluation } }));
    const last = points.at(-1);
    if (!last) continue;
    const metric = obj(last.c.metric);
    const direction: MetricDirection = metric.direction === 'lower-is-better' ? 'lower-is-better' : 'higher-is-better';
    const series = points.map((p) => p.point);
    figures.push({
      objectiveId,
      statement: str(last.c.statement),
      metric: { name: str(metric.name, objectiveId), unit: str(metric.unit), direction },
      target: num(last.c.target) ?? 0,
      atRisk: num(last.c.atRisk) ?? 0,
      latest: last.point,
      trend: trendOf(direction, series.map((p) => p.value)),
      measurements: series.length,
      misses: series.filter((p) => p.evaluation !== 'on-target').length,
      missesInRow: num(last.c.missesInRow) ?? 0,
      series,
    });
  }
  return figures;
}

/**
 * The acknowledgement rate of the latest policy version whose acknowledgements were requested up
 * to `to`: the people asked (`policy.acknowledgements-requested`) and those who acknowledged it
 * (`policy.acknowledged`), whenever they did before `to`.
 */
export async function awarenessFigure(records: Pick<RecordsStore, 'list'>, period: { to: string }): Promise<AwarenessFigure> {
  const requested = await recordsOfKind(records, 'policy.acknowledgements-requested', { to: period.to });
  const latest = requested.at(-1);
  if (!latest) return { version: null, approvedAt: null, inScope: 0, acknowledged: 0, rate: null, pending: [] };
  const c = obj(latest.content);
  const version = num(c.version) ?? 0;
  const people = Array.isArray(c.people) ? c.people.filter((p): p is string => typeof p === 'string') : [];
  const acks = await recordsOfKind(records, 'policy.acknowledged', { to: period.to });
  const done = new Set(acks.map((r) => obj(r.content)).filter((a) => a.version === version && typeof a.person === 'string').map((a) => a.person as string));
  const acknowledged = people.filter((p) => done.has(p)).length;
  return {
    version,
    approvedAt: str(c.approvedAt, latest.occurredAt),
    inScope: people.length,
    acknowledged,
    rate: people.length ? acknowledged / people.length : null,
    pending: people.filter((p) => !done.has(p)),
  };
}
