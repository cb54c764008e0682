/**
 * The improvement items (ISO/IEC 42001 10.1) as the evidence ledger has them: each item raised
 * (`improvement.raised`), open until a later record turns it into an action
 * (`improvement.actioned`) or dismisses it (`improvement.dismissed`). Management review reads
 * the open items as its input (e), opportunities for continual improvement (9.3.2).
 */
import {
  IMPROVEMENT_ACTIONED,
  IMPROVEMENT_DISMISSED,
  IMPROVEMENT_RAISED,
  IMPROVEMENT_SUBJECT_PREFIX,
  improvementSubject,
  type ImprovementAction,
  type ImprovementRaisedContent,
  type ImprovementType,
} from './schema.js';
import type { EvidenceRecord, RecordFilter, RecordsStore } from '../records/types.js';

export type ImprovementState = 'open' | 'actioned' | 'dismissed';

export interface ImprovementItem {
  improvementId: string;
  state: ImprovementState;
  type: ImprovementType;
  statement: string;
  evidence: string;
  clauses: string[];
  source: string;
  /** The finding that raised it, e.g. `A-03-F2`. */
  sourceRef: string;
  audit: ImprovementRaisedContent['audit'] | null;
  raisedAt: string;
  raisedBy: string;
  /** The ledger record that raised it. */
  recordId: string;
  /** How it was closed, when it is. */
  closure?: { at: string; by: string; recordId: string; action?: ImprovementAction; note?: string | null; reason?: string };
}

/** A period: items raised at or after `from` and before `to`, in the state they had at `to`. */
export interface ImprovementPeriod {
  from?: string;
  to?: string;
}

const PAGE = 1000;

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

async function improvementRecords(records: Pick<RecordsStore, 'list'>, filter: RecordFilter): Promise<EvidenceRecord[]> {
  const out: EvidenceRecord[] = [];
  for (let afterSeq = 0; ; ) {
    const page = await records.list({ ...filter, afterSeq, limit: PAGE });
    out.push(...page);
    const last = page.at(-1);
    if (!last || page.length < PAGE) return out;
    afterSeq = last.seq;
  }
}

function raisedItem(record: EvidenceRecord): ImprovementItem {
  const c = obj(record.content) as Partial<ImprovementRaisedContent>;
  const finding = obj(c.finding);
  const audit = obj(c.audit);
  return {
    improvementId: str(c.improvementId, record.subject.slice(IMPROVEMENT_SUBJECT_PREFIX.length)),
    state: 'open',
    type: c.type === 'observation' ? 'observation' : 'opportunity',
    statement: str(c.statement),
    evidence: str(c.evidence),
    clauses: strings(c.clauses),
    source: str(c.source, 'internal-audit'),
    sourceRef: str(finding.findingId),
    audit: c.audit ? (audit as unknown as ImprovementRaisedContent['audit']) : null,
    raisedAt: str(c.raisedAt, record.occurredAt),
    raisedBy: str(c.raisedBy, record.actor),
    recordId: record.id,
  };
}

/** Builds the items from their records, in ledger order: the latest raise of an id, closed by a later closing record. */
function itemsOf(records: EvidenceRecord[]): ImprovementItem[] {
  const items = new Map<string, ImprovementItem>();
  for (const record of records) {
    const c = obj(record.content);
    if (record.kind === IMPROVEMENT_RAISED) {
      const item = raisedItem(record);
      items.set(item.improvementId, item);
      continue;
    }
    const item = items.get(str(c.improvementId));
    if (!item || item.closure) continue;
    if (record.kind === IMPROVEMENT_ACTIONED) {
      item.state = 'actioned';
      item.closure = { at: record.occurredAt, by: record.actor, recordId: record.id, action: c.action as ImprovementAction, note: typeof c.note === 'string' ? c.note : null };
    } else if (record.kind === IMPROVEMENT_DISMISSED) {
      item.state = 'dismissed';
      item.closure = { at: record.occurredAt, by: record.actor, recordId: record.id, reason: str(c.reason) };
    }
  }
  return [...items.values()];
}

/** Every improvement item raised in the period, open or closed, oldest first. */
export async function listImprovementItems(records: Pick<RecordsStore, 'list'>, period: ImprovementPeriod = {}): Promise<ImprovementItem[]> {
  const all = await improvementRecords(records, { subjectPrefix: IMPROVEMENT_SUBJECT_PREFIX, ...(period.to ? { to: period.to } : {}) });
  const from = period.from ? Date.parse(period.from) : -Infinity;
  return itemsOf(all).filter((i) => Date.parse(i.raisedAt) >= from);
}

/**
 * The improvement items still open (neither turned into an action nor dismissed), oldest first:
 * management review's input (e). With a period: the items raised in it that were open at its end.
 */
export async function openImprovementItems(records: Pick<RecordsStore, 'list'>, period?: ImprovementPeriod): Promise<ImprovementItem[]> {
  return (await listImprovementItems(records, period)).filter((i) => i.state === 'open');
}

/** One improvement item with its state, or undefined when no such item was raised. */
export async function findImprovementItem(records: Pick<RecordsStore, 'list'>, id: string): Promise<ImprovementItem | undefined> {
  return itemsOf(await improvementRecords(records, { subject: improvementSubject(id) })).find((i) => i.improvementId === id);
}
