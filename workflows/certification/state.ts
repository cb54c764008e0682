/**
 * A certificate's cycle as the workflow holds it: the plan and the certificate, the audits held
 * and missed, the decisions, the organization's settings and timing, and what the cycle
 * publishes (status query, search attributes, memo, summary line), records and mails.
 */
import { workflowInfo } from '@temporalio/workflow';
import type { NotificationKind } from '../../activities/notifications.js';
import type { AppendedRecord } from '../../activities/records.js';
import { CERTIFICATION_CLAUSES, certificationAttributes, type CertificationAck } from '../../src/certification/contract.js';
import {
  addMonths,
  auditKeys,
  auditNames,
  DAY_MS,
  certificationState,
  checkCycleDates,
  dateEndMs,
  dateMs,
  defaultExpiry,
  defaultNextPlan,
  type AuditKey,
  type AuditPlan,
  type AuditStatus,
  type CertificateDates,
  type CertificateStanding,
  type CertificationEventType,
  type CertificationResult,
  type CertificationSettings,
  type CertificationSpec,
  type CertificationState,
  type CertificationStatus,
  type CycleDates,
  type CycleHistoryEntry,
  type DateIssue,
  type NextPlan,
} from '../../src/certification/schema.js';
import { defaultDecisionDue, type DecisionFacts } from '../../src/certification/rules.js';
import { isCalendarDate } from '../../src/common/dates.js';
import { durationMs } from '../../src/common/duration.js';
import type { PersonRef } from '../../src/common/schemas.js';
import { Recorder, type Notification, type PublishedView } from '../lib/recorder.js';
import { formatDay, reject } from '../lib/util.js';

const stateText: Record<CertificationState, string> = {
  'stage-1': 'Stage 1 audit ahead',
  'stage-2': 'Stage 2 audit ahead',
  decision: 'awaiting the certification decision',
  valid: 'valid',
  'surveillance-due': 'surveillance audit due',
  overdue: 'audit window missed',
  suspended: 'suspended',
  withdrawn: 'withdrawn',
  expired: 'expired',
  recertification: 'recertification due',
  refused: 'certification refused',
  ended: 'cycle ended',
};

/** What the cycle waits for: an external audit, or the body's decision after Stage 2 or the recertification. */
export type Step = AuditKey | 'decision';

/** A granted certificate not yet taken over by the cycle; a recertification carries the next cycle's plan. */
export interface Grant {
  decidedOn: string;
  expiresOn: string;
  nextPlan?: NextPlan;
}

export class Certification {
  readonly workflowId: string;
  /** The first run's id (kept through continue-as-new): part of record, notification and NC keys. */
  readonly firstRunId: string;
  /** When this run started: a reminder that fell due while the cycle was setting up is still sent. */
  readonly runStartMs: number;
  readonly cycle: number;
  readonly plan: AuditPlan;
  certificate: CertificateDates | undefined;
  standing: CertificateStanding;
  /** This cycle's external audits in order: from Stage 1, or from the first surveillance of a granted certificate. */
  readonly sequence: AuditKey[];
  readonly audits: AuditStatus[] = [];
  current: Step | undefined;
  /** Raised by every move of the dates: re-arms the waits and versions reminder, readiness and escalation keys. */
  planVersion = 0;
  ended: CertificationStatus['ended'];
  settings: CertificationSettings | undefined;
  warnings: DateIssue[] = [];
  grant: Grant | undefined;
  body: CertificationSpec['body'];
  readonly decisions: CycleHistoryEntry['decisions'] = [];
  /** The audits and decisions are over: the expiry watch stops. */
  done = false;
  readonly recorder: Recorder<CertificationEventType>;

  constructor(readonly spec: CertificationSpec) {
    const info = workflowInfo();
    this.workflowId = info.workflowId;
    this.firstRunId = info.firstExecutionRunId;
    this.runStartMs = info.runStartTime.getTime();
    this.cycle = spec.cycle;
    this.plan = { ...spec.plan };
    this.certificate = spec.certificate ? { ...spec.certificate } : undefined;
    this.standing = this.certificate ? 'valid' : 'none';
    this.sequence = this.certificate ? ['surveillance1', 'surveillance2', 'recertification'] : [...auditKeys];
    this.current = this.sequence[0];
    this.body = spec.body;
    this.recorder = new Recorder<CertificationEventType>({
      view: () => this.view(),
      clauses: CERTIFICATION_CLAUSES,
      identity: () => ({ certificateId: spec.certificateId, cycle: this.cycle }),
      // Each three-year cycle numbers its records apart: the runs of one certificate share the first run's id.
      idBase: `${info.workflowId}/${info.firstExecutionRunId}/c${spec.cycle}`,
    });
  }

  // The cycle's standing.

  /** The certificate can go no further: withdrawn, expired or refused. */
  terminal(): boolean {
    return this.standing === 'withdrawn' || this.standing === 'expired' || this.standing === 'refused';
  }

  finished(): boolean {
    return this.ended !== undefined || this.terminal();
  }

  auditOf(key: AuditKey): AuditStatus | undefined {
    return this.audits.find((a) => a.audit === key);
  }

  state(): CertificationState {
    const current = this.current;
    return certificationState({
      standing: this.standing,
      ended: this.ended !== undefined,
      current: this.ended ? undefined : current,
      missed: current !== undefined && current !== 'decision' && (this.auditOf(current)?.missed ?? false),
      nowMs: Date.now(),
      dueMs: this.dueMs(),
      dueHorizonMs: Math.max(0, ...this.reminderOffsetsMs()),
    });
  }

  /** The organization's settings, once set up. */
  people(): CertificationSettings {
    if (!this.settings) throw new Error('settings not loaded');
    return this.settings;
  }

  aimsManager(): PersonRef {
    return this.people().aimsManager;
  }

  /** The AIMS manager and top management: whom readiness reports and escalations go to. */
  management(): PersonRef[] {
    return [this.aimsManager(), ...this.people().topManagement];
  }

  // Timing: the organization's settings, overridden by the input's policy.

  private offsets(given: string[] | undefined, fallback: number[] | undefined): number[] {
    return given ? given.map(durationMs) : (fallback ?? []);
  }

  reminderOffsetsMs(): number[] {
    return this.offsets(this.spec.policy.reminderOffsets, this.settings?.reminderOffsetsMs);
  }

  readinessOffsetsMs(): number[] {
    return this.offsets(this.spec.policy.readinessChecks, this.settings?.readinessChecksMs);
  }

  auditWindowMs(): number {
    const given = this.spec.policy.auditWindow;
    return given ? durationMs(given) : (this.settings?.auditWindowMs ?? 30 * DAY_MS);
  }

  ncDeadlineMs(severity: 'major' | 'minor'): number {
    const given = this.spec.policy.ncDeadlines?.[severity];
    return given ? durationMs(given) : (this.settings?.ncDeadlinesMs[severity] ?? (severity === 'major' ? 90 : 180) * DAY_MS);
  }

  // Dates.

  plannedOf(key: AuditKey): string {
    return this.plan[key] ?? '';
  }

  /** The dates the rules look at: held audits at their actual date, the rest as planned. */
  cycleDates(plan: AuditPlan = this.plan): CycleDates {
    const held = (key: AuditKey) => this.auditOf(key)?.completedOn;
    return {
      stage1: held('stage1') ?? plan.stage1,
      stage2: held('stage2') ?? plan.stage2,
      decision: this.certificate?.decisionDate ?? this.grant?.decidedOn ?? plan.decision,
      surveillance1: held('surveillance1') ?? plan.surveillance1,
      surveillance2: held('surveillance2') ?? plan.surveillance2,
      recertification: held('recertification') ?? plan.recertification,
      expiresOn: this.certificate?.expiresOn,
      renewalOf: this.spec.certificate ? this.spec.history.at(-1)?.certificate?.expiresOn : undefined,
    };
  }

  /** When the outcome of `key` is expected at the latest: planned + window, capped by the rule's limit. */
  windowEndMs(key: AuditKey): number {
    const planned = this.plannedOf(key);
    let end = dateEndMs(planned) + this.auditWindowMs();
    const decision = this.certificate?.decisionDate;
    if (decision && key === 'surveillance1') end = Math.min(end, addMonths(dateEndMs(decision), 12));
    if (decision && key === 'surveillance2') end = Math.min(end, addMonths(dateEndMs(decision), 24));
    if (this.certificate && key === 'recertification') end = Math.min(end, dateEndMs(this.certificate.expiresOn));
    return Math.max(end, dateMs(planned));
  }

  /** The audit's status, created when first needed, its planned date and window following the plan. */
  ensureAudit(key: AuditKey): AuditStatus {
    let a = this.auditOf(key);
    if (!a) {
      a = { audit: key, name: auditNames[key], planned: this.plannedOf(key), windowEndsAt: '', findings: [], missed: false, remindersSent: [], readiness: [] };
      this.audits.push(a);
    }
    a.planned = this.plannedOf(key);
    a.windowEndsAt = new Date(this.windowEndMs(key)).toISOString();
    return a;
  }

  /** When the current step is planned. */
  dueMs(): number | undefined {
    if (this.current === undefined) return undefined;
    if (this.current === 'decision') return this.plan.decision ? dateMs(this.plan.decision) : undefined;
    return dateMs(this.plannedOf(this.current));
  }

  /**
   * The date a major found in `audit` is corrected by at the latest: after Stage 2 the decision
   * (as planned, or else Stage 2 as held on `heldOn` plus the audit window), after the
   * recertification the expiry.
   */
  decisionDueAfter(audit: AuditKey, heldOn = this.auditOf(audit)?.completedOn): string | undefined {
    if (audit === 'recertification') return this.certificate?.expiresOn;
    if (audit !== 'stage2') return undefined;
    return this.plan.decision ?? defaultDecisionDue(heldOn ?? this.plannedOf('stage2'), this.auditWindowMs());
  }

  /** The audit held before `key` in this cycle's order, if it was held. */
  heldBefore(key: AuditKey): { key: AuditKey; completedOn: string } | undefined {
    const previous = this.sequence[this.sequence.indexOf(key) - 1];
    const completedOn = previous ? this.auditOf(previous)?.completedOn : undefined;
    return previous && completedOn ? { key: previous, completedOn } : undefined;
  }

  /** What a grant follows: Stage 2 (the recertification for a certificate), its result and the NCs raised from its findings. */
  grantAudit(): NonNullable<DecisionFacts['audit']> {
    const key: AuditKey = this.certificate ? 'recertification' : 'stage2';
    const a = this.auditOf(key);
    const ncs = (a?.findings ?? []).flatMap((f) =>
      f.ncId && (f.severity === 'major' || f.severity === 'minor') ? [{ ncId: f.ncId, ref: f.ref, severity: f.severity, open: f.ncClosedAs === undefined }] : [],
    );
    return { key, completedOn: a?.completedOn, result: a?.result, ncs };
  }

  /** The period an audit's readiness looks at: since the previous external audit (or a year before). */
  periodOf(key: AuditKey): { from: string; to: string } {
    const index = this.sequence.indexOf(key);
    const previous = index > 0 ? this.auditOf(this.sequence[index - 1]!)?.completedOn : undefined;
    const due = dateMs(this.plannedOf(key));
    const from = previous ? dateMs(previous) : this.certificate && index === 0 ? dateMs(this.certificate.decisionDate) : addMonths(due, -12);
    return { from: new Date(Math.min(from, Date.now())).toISOString(), to: new Date(Math.max(due, Date.now() + 1000)).toISOString() };
  }

  // Decisions.

  /**
   * What granting on `input` gives: the certificate's expiry (three years by default), for a
   * recertification the next cycle's plan, and the dates the rules then check.
   */
  grantOf(input: { decidedOn: string; expiresOn?: string | undefined; nextPlan?: NextPlan | undefined }): { grant: Grant; dates: CycleDates } {
    const { decidedOn } = input;
    const certificate = this.certificate;
    const expiresOn = input.expiresOn ?? defaultExpiry(certificate ? certificate.expiresOn : decidedOn);
    if (!certificate) return { grant: { decidedOn, expiresOn }, dates: { ...this.cycleDates(), decision: decidedOn, expiresOn } };
    const nextPlan = input.nextPlan ?? defaultNextPlan(decidedOn, expiresOn);
    return { grant: { decidedOn, expiresOn, nextPlan }, dates: { decision: decidedOn, expiresOn, renewalOf: certificate.expiresOn, ...nextPlan } };
  }

  /** The initial certification decision granted the certificate: later rules and windows count from it. */
  certify(): void {
    const grant = this.grant!;
    const granted: CertificateDates = { decisionDate: grant.decidedOn, expiresOn: grant.expiresOn };
    this.certificate = granted;
    this.standing = 'valid';
    this.grant = undefined;
    this.event('certified', 'system', `certificate granted on ${granted.decisionDate}, expires ${granted.expiresOn}`);
    this.publish();
  }

  // Checks shared by the updates.

  checkActor(by: string, what: string): void {
    if (by !== 'system' && by !== this.settings?.aimsManager.id) reject(`only the AIMS manager can ${what}`);
  }

  ensureRunning(): void {
    if (this.ended) reject(`the cycle of ${this.spec.certificateId} has ended`);
    if (this.terminal()) reject(`the certificate ${this.spec.certificateId} is ${this.standing}`);
  }

  ack(message: string, extra: Partial<CertificationAck> = {}): CertificationAck {
    return { ok: true, state: this.state(), message, warnings: [], ...extra };
  }

  // Timeline, status, ledger and mail.

  event(type: CertificationEventType, by: string, detail: string, data?: Record<string, unknown>): void {
    this.recorder.event(type, by, detail, { data });
  }

  publish(): void {
    this.recorder.publish();
  }

  append(kind: string, actor: string, content: Record<string, unknown>, key?: string): Promise<AppendedRecord> {
    return this.recorder.append(kind, actor, content, key);
  }

  /** Mails `to` about the certificate; `key` names the notification within this cycle. */
  send(kind: NotificationKind, key: string, to: PersonRef[], data: Record<string, unknown>, invite?: Notification['invite']): Promise<boolean> {
    return this.recorder.notify(
      { kind, to, data: { certificateId: this.spec.certificateId, clauses: CERTIFICATION_CLAUSES, ...data }, ...(invite ? { invite } : {}) },
      `c${this.cycle}/${key}`,
    );
  }

  auditTitle(key: AuditKey): string {
    return `${this.spec.certificateId}: ${auditNames[key]}`;
  }

  /** The calendar invitation to an audit: one event per audit and cycle, its sequence raised by every move. */
  invite(key: AuditKey): NonNullable<Notification['invite']> {
    const planned = this.plannedOf(key);
    return {
      uid: `${this.workflowId}/c${this.cycle}/${key}`,
      title: `${auditNames[key]} of ${this.spec.certificateId}${this.body ? ` by ${this.body.name}` : ''}`,
      start: planned,
      end: isCalendarDate(planned) ? planned : new Date(dateMs(planned) + 8 * 3_600_000).toISOString(),
      sequence: this.planVersion,
      description: `External ${auditNames[key]} of the AI management system (certificate ${this.spec.certificateId}).`,
      organizer: this.aimsManager(),
    };
  }

  status(): CertificationStatus {
    const { spec } = this;
    return {
      certificateId: spec.certificateId,
      workflowId: this.workflowId,
      standard: spec.standard,
      body: this.body ?? { name: '(not set)' },
      cycle: this.cycle,
      state: this.state(),
      standing: this.standing,
      certificate: this.certificate,
      plan: this.plan,
      ...(this.current !== undefined && !this.finished() ? { current: this.current } : {}),
      audits: this.audits,
      decisions: this.decisions,
      warnings: this.warnings,
      history: spec.history,
      ended: this.ended,
      timeline: this.recorder.timeline,
    };
  }

  private view(): PublishedView {
    const { spec, current, certificate, body } = this;
    const state = this.state();
    const due = this.dueMs();
    // A missed audit has no due date to sort by until it is moved.
    const missed = current !== undefined && current !== 'decision' && this.auditOf(current)?.missed;
    const open = !this.finished();
    const what = current === undefined || !open ? '' : current === 'decision' ? ' · awaiting the decision' : ` · next: ${auditNames[current]} ${formatDay(dateMs(this.plannedOf(current)))}`;
    const cert = certificate ? ` · expires ${formatDay(dateMs(certificate.expiresOn))}` : '';
    return {
      attributes: certificationAttributes({
        certificateId: spec.certificateId,
        state,
        owner: this.settings?.aimsManager.id,
        dueAt: due !== undefined && !missed && open ? new Date(due) : undefined,
      }),
      memo: { kind: 'certification', certificateId: spec.certificateId, cycle: this.cycle, state, body: body?.name ?? null, expiresOn: certificate?.expiresOn ?? null },
      details: `**${spec.certificateId}** · ${stateText[state]} · cycle ${this.cycle}${what}${cert}${body ? ` · ${body.name}` : ''}`,
    };
  }

  // Start and end.

  /** Sets up with the organization's settings: the body defaults from them, and the plan is checked against the rules. */
  start(settings: CertificationSettings): Promise<AppendedRecord> {
    const { spec, certificate } = this;
    this.settings = settings;
    this.body ??= settings.body;
    const start = checkCycleDates(this.cycleDates(), { risky: settings.risky });
    this.warnings = start.warnings;
    this.event(
      this.cycle === 1 && !certificate ? 'started' : 'cycle-started',
      spec.startedBy,
      certificate
        ? `cycle ${this.cycle} of certificate ${spec.certificateId} (decision ${certificate.decisionDate}, expires ${certificate.expiresOn})`
        : `initial certification of ${spec.certificateId} with ${this.body?.name ?? 'the certification body'}`,
      { warnings: start.warnings },
    );
    this.publish();
    return this.append(
      'certification.cycle-started',
      spec.startedBy,
      { plan: this.plan, certificate: certificate ?? null, body: this.body ?? null, warnings: start.warnings, errors: start.errors },
      'started',
    );
  }

  /** This cycle as the next one carries it. */
  historyEntry(): CycleHistoryEntry {
    return {
      cycle: this.cycle,
      ...(this.certificate ? { certificate: this.certificate } : {}),
      audits: this.audits.map((a) => ({
        audit: a.audit,
        planned: a.planned,
        ...(a.completedOn ? { completedOn: a.completedOn } : {}),
        ...(a.result ? { result: a.result } : {}),
        findings: a.findings.length,
        ncIds: a.findings.flatMap((f) => (f.ncId ? [f.ncId] : [])),
        missed: a.missed,
      })),
      decisions: this.decisions,
      endedAt: new Date().toISOString(),
    };
  }

  /** Recertified: the renewed certificate and this cycle's history, recorded for the next cycle to start from. */
  async recertify(grant: Grant & { nextPlan: NextPlan }): Promise<{ renewed: CertificateDates; entry: CycleHistoryEntry }> {
    const renewed: CertificateDates = { decisionDate: grant.decidedOn, expiresOn: grant.expiresOn };
    const entry = this.historyEntry();
    await this.append('certification.recertified', 'system', { certificate: renewed, nextPlan: grant.nextPlan, history: entry }, 'recertified');
    this.event('recertified', 'system', `recertified on ${renewed.decisionDate}, expires ${renewed.expiresOn}; cycle ${this.cycle + 1} begins`);
    return { renewed, entry };
  }

  /** The cycle ended without a recertification: its final state and history, recorded. */
  async close(): Promise<CertificationResult> {
    const state = this.state();
    this.publish();
    const entry = this.historyEntry();
    await this.append('certification.cycle-ended', this.ended?.by ?? 'system', { state, ended: this.ended ?? null, history: entry }, 'ended');
    return { certificateId: this.spec.certificateId, cycle: this.cycle, state, history: [...this.spec.history, entry] };
  }
}
