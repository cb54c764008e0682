/**
 * The AI risk register as the records store holds it: every change to a risk is a ledger
 * record under `risk/<id>` whose content is the whole risk after the change, so the register's
 * current state is the latest record of each risk and its history is the records before.
 * Written by the risk assessment workflow (through an activity, with deterministic record ids)
 * and by the admin API; read by the API, the CLI and management review.
 */
import type { EvidenceRecord, RecordsStore } from '../records/types.js';
import { RISK_CLAUSES, RISK_SUBJECT_PREFIX, riskSubject, type RegisterEntry, type Risk, type RiskState } from './schema.js';

const PAGE = 1000;

async function allRecords(records: Pick<RecordsStore, 'list'>, filter: { subjectPrefix?: string; subject?: string }): Promise<EvidenceRecord[]> {
  const out: EvidenceRecord[] = [];
  for (let afterSeq = 0; ; ) {
    const page = await records.list({ ...filter, afterSeq, limit: PAGE });
    out.push(...page);
    const last = page.at(-1);
    if (!last || page.length < PAGE) return out;
    afterSeq = last.seq;
  }
}

function riskOf(record: EvidenceRecord): Risk | undefined {
  const content = record.content as { risk?: Risk } | null;
  return content && typeof content === 'object' && content.risk && typeof content.risk.riskId === 'string' ? content.risk : undefined;
}

/** The state a read shows: an accepted or treated risk past its review date is `review-due`. */
export function shownState(risk: Risk, nowMs: number): RiskState {
  if ((risk.state === 'accepted' || risk.state === 'treated') && risk.reviewDueAt && Date.parse(risk.reviewDueAt) <= nowMs) return 'review-due';
  return risk.state;
}

export interface RegisterFilter {
  state?: RiskState;
  /** An AI system id, or `aims` for AIMS-wide risks. */
  scope?: string;
  owner?: string;
  level?: string;
  category?: string;
  /** Include closed risks (default: not, unless `state` is `closed`). */
  includeClosed?: boolean;
}

/** The register's current state: the latest record of each risk, in id order. */
export async function readRegister(records: Pick<RecordsStore, 'list'>, filter: RegisterFilter = {}, nowMs = Date.now()): Promise<RegisterEntry[]> {
  const latest = new Map<string, { record: EvidenceRecord; risk: Risk; version: number }>();
  for (const record of await allRecords(records, { subjectPrefix: RISK_SUBJECT_PREFIX })) {
    const risk = riskOf(record);
    if (!risk) continue;
    const before = latest.get(risk.riskId);
    latest.set(risk.riskId, { record, risk, version: (before?.version ?? 0) + 1 });
  }
  const entries = [...latest.values()].map(({ record, risk, version }) => ({ ...risk, state: shownState(risk, nowMs), recordId: record.id, version }));
  return entries
    .filter((r) => {
      if (filter.state ? r.state !== filter.state : r.state === 'closed' && !filter.includeClosed) return false;
      if (filter.scope && (filter.scope === 'aims' ? r.aiSystems.length > 0 : !r.aiSystems.includes(filter.scope))) return false;
      if (filter.owner && r.owner !== filter.owner) return false;
      if (filter.level && (r.residual?.level ?? r.inherent?.level) !== filter.level) return false;
      if (filter.category && !r.categories.includes(filter.category as never)) return false;
      return true;
    })
    .sort((a, b) => a.riskId.localeCompare(b.riskId, 'en', { numeric: true }));
}

/** One risk with every version of it, oldest first; undefined when there is none. */
export async function readRisk(records: Pick<RecordsStore, 'list'>, riskId: string, nowMs = Date.now()): Promise<{ risk: RegisterEntry; history: Array<{ recordId: string; kind: string; actor: string; occurredAt: string; change: string; risk: Risk }> } | undefined> {
  const rows = (await allRecords(records, { subject: riskSubject(riskId) })).flatMap((record) => {
    const risk = riskOf(record);
    const change = (record.content as { change?: unknown }).change;
    return risk ? [{ recordId: record.id, kind: record.kind, actor: record.actor, occurredAt: record.occurredAt, change: typeof change === 'string' ? change : '', risk }] : [];
  });
  const last = rows.at(-1);
  if (!last) return undefined;
  return { risk: { ...last.risk, state: shownState(last.risk, nowMs), recordId: last.recordId, version: rows.length }, history: rows };
}

export interface RiskRecord {
  /** Record id: deterministic, so a retried write appends once. */
  id: string;
  kind: `risk.${string}`;
  risk: Risk;
  actor: string;
  /** What changed, in words. */
  change: string;
  occurredAt?: string;
  /** Clauses beside 6.1.2, 6.1.3, 8.2, 8.3 (the Annex A controls it names, ...). */
  clauses?: string[];
}

/** Appends a version of a risk to the ledger. */
export async function appendRisk(records: Pick<RecordsStore, 'append'>, r: RiskRecord): Promise<EvidenceRecord> {
  return records.append({
    id: r.id,
    kind: r.kind,
    subject: riskSubject(r.risk.riskId),
    clauses: [...new Set([...RISK_CLAUSES, ...(r.clauses ?? [])])].slice(0, 20),
    actor: r.actor,
    occurredAt: r.occurredAt ?? r.risk.updatedAt,
    content: { riskId: r.risk.riskId, change: r.change, risk: r.risk },
  });
}

/** The register's figures for management review input (d): open risks by level, overdue treatments, accepted residual risks. */
export interface RegisterFigures {
  open: number;
  openByLevel: Record<string, number>;
  overdueTreatments: Array<{ riskId: string; action: string; owner: string; dueDate: string }>;
  acceptedResidual: Array<{ riskId: string; title: string; level: string; acceptedBy: string; acceptedAt: string }>;
  reviewDue: number;
}

export function registerFigures(entries: readonly RegisterEntry[], nowMs = Date.now()): RegisterFigures {
  const open = entries.filter((r) => r.state !== 'closed');
  const openByLevel: Record<string, number> = {};
  for (const r of open) {
    const level = r.residual?.level ?? r.inherent?.level ?? 'not rated';
    openByLevel[level] = (openByLevel[level] ?? 0) + 1;
  }
  const today = new Date(nowMs).toISOString().slice(0, 10);
  return {
    open: open.length,
    openByLevel,
    overdueTreatments: open.flatMap((r) => (r.treatment?.plan ?? []).filter((a) => !a.doneAt && a.dueDate < today).map((a) => ({ riskId: r.riskId, action: a.action, owner: a.owner, dueDate: a.dueDate }))),
    acceptedResidual: open.flatMap((r) =>
      r.acceptance && r.residual ? [{ riskId: r.riskId, title: r.title, level: r.residual.level, acceptedBy: r.acceptance.by, acceptedAt: r.acceptance.at }] : [],
    ),
    reviewDue: open.filter((r) => r.state === 'review-due').length,
  };
}
