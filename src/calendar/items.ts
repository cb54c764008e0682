/**
 * The AIMS calendar: the dates of the management system's work in one list, gathered by one
 * pure function from what Temporal visibility, the status of the few running internal audit
 * programmes and certification cycles, and the risk register give. The console's month and list
 * views and each person's iCalendar feed show the same items.
 *
 * On it: internal audits (their planned windows), management review meetings, external audits
 * (Stage 1 and 2, surveillance, recertification) and the certification decision, the
 * certificate's dates (decision, expiry), impact assessments due (the next reassessment of each AI
 * system, running assessments), risk reviews due (the register), objective measurement dates,
 * and the person's own open tasks and approvals.
 *
 * Not on it: other people's tasks and approvals, the steps inside a process (a corrective
 * action's action due dates appear only as the assignee's tasks), closed work, risk assessments
 * (they carry no due date of their own; the risks' review dates stand for them), the SoA and AI
 * policy reviews and the yearly schedules' next firing.
 */
import type { Permission } from '../auth/permissions.js';
import type { AuditPlan, AuditKey, CertificateDates } from '../certification/schema.js';
import type { AuditWindow, TrackedAuditState } from '../internal-audit/schema.js';

export const calendarKinds = [
  'internal-audit',
  'management-review',
  'external-audit',
  'certificate',
  'impact-assessment',
  'risk-review',
  'objective',
  'task',
  'approval',
] as const;
export type CalendarKind = (typeof calendarKinds)[number];

export const kindLabels: Record<CalendarKind, string> = {
  'internal-audit': 'Internal audit',
  'management-review': 'Management review',
  'external-audit': 'External audit',
  certificate: 'Certificate',
  'impact-assessment': 'Impact assessment',
  'risk-review': 'Risk review',
  objective: 'Objective measurement',
  task: 'My task',
  approval: 'My approval',
};

/** Where an item's link points: a console page, a workflow (shown in the Temporal UI), or nowhere of its own (the calendar's month). */
export type CalendarTarget = { console: string } | { workflowId: string } | { none: true };

export interface CalendarItem {
  /** Stable across reads and changes of the same date (the feed's UID). */
  uid: string;
  kind: CalendarKind;
  title: string;
  /** All-day: `start` and `end` are dates (YYYY-MM-DD, `end` inclusive). Timed: `start` is an instant and `end` equals it. */
  allDay: boolean;
  start: string;
  end: string;
  workflowId: string;
  /** A line of context: state, owner, what is due. */
  detail: string;
  overdue: boolean;
  target: CalendarTarget;
}

/** A running workflow as visibility lists it. */
export interface ListedWorkflow {
  workflowId: string;
  type: string;
  ref?: string | undefined;
  state?: string | undefined;
  owner?: string | undefined;
  dueAt?: string | undefined;
  memo: Record<string, unknown>;
}

/** A task or approval of the person (src/task/work.ts). */
export interface OwnWork {
  id: string;
  kind: 'task' | 'approval' | 'other';
  title: string;
  dueAt: string | undefined;
  overdue: boolean;
  process: string | undefined;
  state: string;
}

/** What an internal audit programme's status says of its audits. */
export interface ProgrammeDates {
  year: number;
  workflowId: string;
  audits: Array<{ auditId: string; title: string; workflowId: string; window: AuditWindow; state: TrackedAuditState; leadAuditor: string; auditee: string }>;
}

/** What a certification cycle's status says of its dates. */
export interface CycleDates {
  certificateId: string;
  workflowId: string;
  plan: AuditPlan;
  certificate?: CertificateDates | undefined;
  audits: Array<{ audit: AuditKey; completedOn?: string | undefined; missed: boolean }>;
}

export interface RiskDates {
  riskId: string;
  title: string;
  owner: string;
  state: string;
  reviewDueAt?: string | undefined;
}

export interface CalendarSources {
  /** Running workflows of the processes on the calendar (visibility). */
  workflows: ListedWorkflow[];
  /** Internal audit programmes whose status was read (their audits' windows replace the visibility entries of those audits). */
  programmes: ProgrammeDates[];
  /** Certification cycles whose status was read (the full plan, instead of the next audit only). */
  cycles: CycleDates[];
  risks: RiskDates[];
  own: OwnWork[];
}

export interface CalendarOptions {
  /** The organization's time zone: instants become that day. */
  timeZone: string;
  now: Date;
  /** The kinds the person may see (by their read permissions); their own work is always shown. */
  kinds: ReadonlySet<CalendarKind>;
}

const auditLabels: Record<AuditKey | 'decision', string> = {
  stage1: 'Stage 1 audit',
  stage2: 'Stage 2 audit',
  surveillance1: 'Surveillance audit 1',
  surveillance2: 'Surveillance audit 2',
  recertification: 'Recertification audit',
  decision: 'Certification decision',
};

const isDate = (v: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(v);

/** The day (YYYY-MM-DD) an instant falls on in `timeZone`; a date stays itself. */
export function dayIn(value: string, timeZone: string): string {
  if (isDate(value)) return value;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return '';
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
}

/** A window bound's last day: a date is itself, an instant its day (an instant at midnight ends the day before). */
function lastDayOf(value: string, timeZone: string): string {
  if (isDate(value)) return value;
  return dayIn(new Date(Date.parse(value) - 1).toISOString(), timeZone);
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** Every item of the calendar, by start and title. */
export function calendarItems(sources: CalendarSources, options: CalendarOptions): CalendarItem[] {
  const { timeZone, now, kinds } = options;
  const nowMs = now.getTime();
  const items: CalendarItem[] = [];
  const add = (item: Omit<CalendarItem, 'overdue'> & { overdue?: boolean }): void => {
    if (!item.start || !item.end) return;
    items.push({ ...item, overdue: item.overdue ?? false });
  };
  const allDay = (day: string) => ({ allDay: true, start: day, end: day });
  const dueDay = (dueAt: string) => dayIn(dueAt, timeZone);
  const pastDue = (dueAt: string | undefined) => dueAt !== undefined && Date.parse(dueAt) < nowMs;

  // Internal audits: each audit's window from its programme's status; audits of programmes not read, by their window's end.
  const fromProgrammes = new Set<string>();
  if (kinds.has('internal-audit')) {
    for (const p of sources.programmes) {
      for (const a of p.audits) {
        fromProgrammes.add(a.workflowId);
        if (a.state === 'cancelled') continue;
        const start = dayIn(a.window.start, timeZone);
        add({
          uid: `${a.workflowId}/window`,
          kind: 'internal-audit',
          title: `Internal audit ${a.auditId}: ${a.title}`,
          allDay: true,
          start,
          end: lastDayOf(a.window.end, timeZone) || start,
          workflowId: a.workflowId,
          detail: `${a.state}; lead auditor ${a.leadAuditor}, auditee ${a.auditee}`,
          overdue: a.state === 'overdue',
          target: { workflowId: a.workflowId },
        });
      }
    }
  }

  for (const w of sources.workflows) {
    const memo = w.memo;
    switch (w.type) {
      case 'internalAudit': {
        if (!kinds.has('internal-audit') || fromProgrammes.has(w.workflowId) || !w.dueAt) break;
        const auditId = text(memo.auditId) ?? w.ref ?? w.workflowId;
        add({
          uid: `${w.workflowId}/window`,
          kind: 'internal-audit',
          title: `Internal audit ${auditId}: ${text(memo.title) ?? ''} (window ends)`.replace(':  (', ' ('),
          // The programme counts a dated window in UTC days; an audit's due date is its window's end.
          ...allDay(lastDayOf(w.dueAt, 'UTC')),
          workflowId: w.workflowId,
          detail: `${w.state ?? 'unknown'}; lead auditor ${w.owner ?? 'unknown'}`,
          overdue: w.state === 'overdue',
          target: { workflowId: w.workflowId },
        });
        break;
      }
      case 'managementReview': {
        const meeting = text(memo.meetingDate);
        if (!kinds.has('management-review') || !meeting) break;
        const reviewId = text(memo.reviewId) ?? w.ref ?? w.workflowId;
        add({
          uid: `${w.workflowId}/meeting`,
          kind: 'management-review',
          title: `Management review ${reviewId} meeting`,
          ...allDay(meeting),
          workflowId: w.workflowId,
          detail: w.state ?? 'unknown',
          target: { workflowId: w.workflowId },
        });
        break;
      }
      case 'certificationCycle': {
        if (sources.cycles.some((c) => c.workflowId === w.workflowId)) break;
        const certificateId = text(memo.certificateId) ?? w.ref ?? w.workflowId;
        if (kinds.has('external-audit') && w.dueAt) {
          add({
            uid: `${w.workflowId}/next`,
            kind: 'external-audit',
            title: `${certificateId}: next external audit`,
            ...allDay(dueDay(w.dueAt)),
            workflowId: w.workflowId,
            detail: w.state ?? 'unknown',
            overdue: w.state === 'overdue',
            target: { workflowId: w.workflowId },
          });
        }
        const expiresOn = text(memo.expiresOn);
        if (kinds.has('certificate') && expiresOn) {
          add({
            uid: `${w.workflowId}/expires`,
            kind: 'certificate',
            title: `${certificateId}: certificate expires`,
            ...allDay(expiresOn),
            workflowId: w.workflowId,
            detail: w.state ?? 'unknown',
            target: { workflowId: w.workflowId },
          });
        }
        break;
      }
      case 'aiSystem': {
        if (!kinds.has('impact-assessment') || !w.dueAt || w.state === 'retired' || w.state === 'in-progress') break;
        const systemId = w.ref ?? w.workflowId;
        add({
          uid: `${w.workflowId}/reassessment`,
          kind: 'impact-assessment',
          title: `Impact assessment of ${text(memo.title) ?? systemId} due`,
          ...allDay(dueDay(w.dueAt)),
          workflowId: w.workflowId,
          detail: `${w.state ?? 'unknown'}; owner ${w.owner ?? 'unknown'}`,
          overdue: w.state === 'overdue' || pastDue(w.dueAt),
          target: { workflowId: w.workflowId },
        });
        break;
      }
      case 'impactAssessment': {
        if (!kinds.has('impact-assessment') || !w.dueAt) break;
        add({
          uid: `${w.workflowId}/due`,
          kind: 'impact-assessment',
          title: `Impact assessment ${text(memo.assessmentId) ?? w.ref ?? w.workflowId} due`,
          ...allDay(dueDay(w.dueAt)),
          workflowId: w.workflowId,
          detail: `${w.state ?? 'unknown'}; owner ${w.owner ?? 'unknown'}`,
          overdue: pastDue(w.dueAt),
          target: { workflowId: w.workflowId },
        });
        break;
      }
      case 'objectiveMeasurement': {
        if (!kinds.has('objective') || !w.dueAt) break;
        const objectiveId = w.ref ?? w.workflowId;
        add({
          uid: `${w.workflowId}/measurement/${dueDay(w.dueAt)}`,
          kind: 'objective',
          title: `Measurement of objective ${objectiveId} due`,
          ...allDay(dueDay(w.dueAt)),
          workflowId: w.workflowId,
          detail: `${text(memo.title) ?? ''}${w.owner ? ` (owner ${w.owner})` : ''}`.trim(),
          overdue: w.state === 'overdue' || pastDue(w.dueAt),
          target: { console: `/admin/console/objectives/${encodeURIComponent(objectiveId)}` },
        });
        break;
      }
      default:
        break;
    }
  }

  // Certification cycles read in full: every planned audit, the decision and the certificate's dates.
  for (const c of sources.cycles) {
    if (kinds.has('external-audit')) {
      const planned: Array<[AuditKey | 'decision', string | undefined]> = [
        ['stage1', c.plan.stage1],
        ['stage2', c.plan.stage2],
        ['decision', c.plan.decision],
        ['surveillance1', c.plan.surveillance1],
        ['surveillance2', c.plan.surveillance2],
        ['recertification', c.plan.recertification],
      ];
      for (const [key, when] of planned) {
        if (!when) continue;
        const status = c.audits.find((a) => a.audit === key);
        add({
          uid: `${c.workflowId}/${key}`,
          kind: 'external-audit',
          title: `${c.certificateId}: ${auditLabels[key]}`,
          ...allDay(dayIn(when, timeZone)),
          workflowId: c.workflowId,
          detail: status?.completedOn ? `held on ${status.completedOn}` : status?.missed ? 'missed: no outcome recorded in its window' : 'planned',
          overdue: status?.missed ?? false,
          target: { workflowId: c.workflowId },
        });
      }
    }
    if (kinds.has('certificate') && c.certificate) {
      add({ uid: `${c.workflowId}/decided`, kind: 'certificate', title: `${c.certificateId}: certificate granted`, ...allDay(c.certificate.decisionDate), workflowId: c.workflowId, detail: `valid until ${c.certificate.expiresOn}`, target: { workflowId: c.workflowId } });
      add({ uid: `${c.workflowId}/expires`, kind: 'certificate', title: `${c.certificateId}: certificate expires`, ...allDay(c.certificate.expiresOn), workflowId: c.workflowId, detail: `granted ${c.certificate.decisionDate}`, target: { workflowId: c.workflowId } });
    }
  }

  if (kinds.has('risk-review')) {
    for (const r of sources.risks) {
      if (!r.reviewDueAt || r.state === 'closed') continue;
      add({
        uid: `risk/${r.riskId}/review/${dueDay(r.reviewDueAt)}`,
        kind: 'risk-review',
        title: `Review of risk ${r.riskId}: ${r.title}`,
        ...allDay(dueDay(r.reviewDueAt)),
        workflowId: `risk/${r.riskId}`,
        detail: `${r.state}; owner ${r.owner}`,
        overdue: pastDue(r.reviewDueAt),
        // The risk register has no page of its own yet: the feed links to the calendar's month.
        target: { none: true },
      });
    }
  }

  // The person's own tasks and approvals: timed, at their due instant.
  for (const w of sources.own) {
    if (!w.dueAt || w.kind === 'other') continue;
    add({
      uid: `${w.id}/due`,
      kind: w.kind,
      title: `${w.kind === 'approval' ? 'Approval' : 'Task'} due: ${w.title}`,
      allDay: false,
      start: w.dueAt,
      end: w.dueAt,
      workflowId: w.id,
      detail: `${w.state}${w.process && w.process !== 'adhoc' ? ` (${w.process})` : ''}`,
      overdue: w.overdue,
      target: { console: '/console' },
    });
  }

  return items.sort((a, b) => startMs(a) - startMs(b) || a.title.localeCompare(b.title) || a.uid.localeCompare(b.uid));
}

function startMs(item: CalendarItem): number {
  return Date.parse(item.allDay ? `${item.start}T00:00:00Z` : item.start);
}

/** `YYYY-MM`, a month between 1900 and 9999. */
export function parseMonth(value: string): { year: number; month: number } | undefined {
  const m = /^(\d{4})-(\d{2})$/.exec(value);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  if (year < 1900 || month < 1 || month > 12) return undefined;
  return { year, month };
}

export function monthText(m: { year: number; month: number }): string {
  return `${m.year}-${String(m.month).padStart(2, '0')}`;
}

export function shiftMonth(m: { year: number; month: number }, by: number): { year: number; month: number } {
  const index = m.year * 12 + (m.month - 1) + by;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

/** The items that touch the month, each with the day it starts on within the month (an item begun earlier starts on the 1st). */
export function itemsInMonth(items: readonly CalendarItem[], month: { year: number; month: number }, timeZone: string): Array<CalendarItem & { day: string }> {
  const first = `${monthText(month)}-01`;
  const last = `${monthText(month)}-${String(daysIn(month)).padStart(2, '0')}`;
  const out: Array<CalendarItem & { day: string }> = [];
  for (const item of items) {
    const start = item.allDay ? item.start : dayIn(item.start, timeZone);
    const end = item.allDay ? item.end : start;
    if (end < first || start > last) continue;
    out.push({ ...item, day: start < first ? first : start });
  }
  return out;
}

export function daysIn(m: { year: number; month: number }): number {
  return new Date(Date.UTC(m.year, m.month, 0)).getUTCDate();
}

/** The read permission each kind needs; the person's own tasks and approvals need none. */
export const kindPermissions: Record<CalendarKind, Permission | null> = {
  'internal-audit': 'internal-audit.read',
  'management-review': 'management-review.read',
  'external-audit': 'certification.read',
  certificate: 'certification.read',
  'impact-assessment': 'ai-system.read',
  'risk-review': 'risk.read',
  objective: 'objective.read',
  task: null,
  approval: null,
};

/** The kinds a person may see, given what their roles permit. */
export function visibleKinds(may: (permission: Permission) => boolean): Set<CalendarKind> {
  return new Set(calendarKinds.filter((k) => {
    const needed = kindPermissions[k];
    return needed === null || may(needed);
  }));
}
