/**
 * An internal audit's state: its window, lead auditor and current step, the plan, fieldwork and
 * findings, the NCs raised, and what it publishes (status query, search attributes, memo,
 * summary line), records and sends (the calendar invitation, its progress to the programme).
 */
import { getExternalWorkflowHandle, isCancellation, workflowInfo, type CancellationScope } from '@temporalio/workflow';
import type { InternalAuditSettings } from '../../activities/internal-audit.js';
import { durationMs } from '../../src/common/duration.js';
import type { PersonRef } from '../../src/common/schemas.js';
import { auditProgressSignal } from '../../src/internal-audit/contract.js';
import {
  scopeText,
  windowEndMs,
  windowText,
  type AuditChange,
  type AuditFinding,
  type AuditState,
  type AuditStatus,
  type AuditWindow,
  type FindingCounts,
  type InternalAuditResult,
  type InternalAuditSpec,
  type PlannedAudit,
} from '../../src/internal-audit/schema.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts } from '../lib/activities.js';
import { Recorder } from '../lib/recorder.js';

export type AuditEventType =
  | 'rescheduled'
  | 'auditor-changed'
  | 'auditee-changed'
  | 'step-started'
  /** A step's task or approval failed; it is asked again, or the audit gives up on it. */
  | 'step-failed'
  | 'handover'
  | 'step-restarted'
  | 'step-completed'
  | 'report-approved'
  | 'report-rejected'
  | 'nc-raised'
  | 'improvement-raised'
  | 'reported'
  | 'cancelled';

/** How the calendar entry changes: the same UID throughout, a higher sequence each time. */
export type InviteChange = 'scheduled' | 'rescheduled' | 'auditor-changed' | 'cancelled';

const stateText: Record<AuditState, string> = {
  invited: 'invitation sent',
  planning: 'audit plan being prepared',
  acknowledgement: 'waiting for the auditee to acknowledge the plan',
  fieldwork: 'fieldwork',
  findings: 'findings being recorded',
  'report-approval': 'report awaiting approval',
  reported: 'reported',
  cancelled: 'cancelled',
};

const defaultObjectives = `Determine whether the audited part of the AI management system conforms to ISO/IEC 42001 and the organization's own requirements, and is effectively implemented and maintained.`;
const defaultCriteria = `ISO/IEC 42001:2023 clauses and Annex A controls in scope; the organization's AI policy, procedures and the Statement of Applicability.`;

export class Audit {
  readonly workflowId = workflowInfo().workflowId;
  readonly audit: PlannedAudit;
  readonly clauses: string[];
  readonly objectives: string;
  readonly criteria: string;
  state: AuditState = 'invited';
  window: AuditWindow;
  leadAuditor: string;
  /** Who is audited: the plan's auditee until a handover moves it. */
  auditee: string;
  inviteSequence = 0;
  currentStep: AuditStatus['currentStep'];
  plan: Record<string, unknown> | undefined;
  fieldwork: Record<string, unknown> | undefined;
  findings: AuditFinding[] = [];
  readonly ncIds: string[] = [];
  reportedAt: string | undefined;
  cancellation: AuditStatus['cancellation'];
  /** The organization's settings, once looked up. */
  settings: InternalAuditSettings | undefined;
  stepDueMs = 0;
  approvalDueMs = 0;
  /** Changes from the programme not applied yet. */
  readonly pendingChanges: AuditChange[] = [];
  /** The scope of the running auditor step: cancelled when the auditor changes, so the step restarts for the new one. */
  auditorScope: CancellationScope | undefined;
  auditorChanges = 0;
  readonly recorder: Recorder<AuditEventType>;

  constructor(readonly spec: InternalAuditSpec) {
    this.audit = spec.audit;
    this.window = spec.audit.window;
    this.leadAuditor = spec.audit.leadAuditor;
    this.auditee = spec.audit.auditee;
    this.clauses = [...new Set(['9.2', ...spec.audit.scope.clauses, ...spec.audit.scope.controls])];
    this.objectives = spec.audit.objectives ?? defaultObjectives;
    this.criteria = spec.audit.criteria ?? defaultCriteria;
    this.recorder = new Recorder<AuditEventType>({
      view: () => this.view(),
      clauses: this.clauses,
      identity: () => ({ year: spec.year, auditId: spec.audit.auditId }),
    });
  }

  get timeline() {
    return this.recorder.timeline;
  }

  event(type: AuditEventType, by: string, detail: string): void {
    this.recorder.event(type, by, detail);
  }

  publish(): void {
    this.recorder.publish();
  }

  isClosed(): boolean {
    return this.state === 'reported' || this.state === 'cancelled';
  }

  /** The organization's settings, with the programme's timing overrides. */
  setUp(settings: InternalAuditSettings): void {
    const { policy } = this.spec;
    this.settings = settings;
    this.stepDueMs = policy.stepDue ? durationMs(policy.stepDue) : settings.stepDueMs;
    this.approvalDueMs = policy.approvalDue ? durationMs(policy.approvalDue) : settings.approvalDueMs;
  }

  /** A step's due date: `targetMs`, but never sooner than a step's due duration from now. */
  dueBy(targetMs: number): string {
    return new Date(Math.max(targetMs, Date.now() + this.stepDueMs)).toISOString();
  }

  /** Moves to `next`, publishes it and tells the programme. */
  async setState(next: AuditState): Promise<void> {
    this.state = next;
    this.publish();
    await this.progress();
  }

  /** Tells the programme how far the audit is (when started by one). */
  async progress(extra: { findings?: FindingCounts; ncIds?: string[] } = {}): Promise<void> {
    const parent = workflowInfo().parent;
    if (!parent) return;
    try {
      await getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(auditProgressSignal, {
        auditId: this.audit.auditId,
        state: this.state,
        at: new Date().toISOString(),
        ...extra,
      });
    } catch (err) {
      // A programme that has already closed no longer tracks its audits.
      if (isCancellation(err)) throw err;
    }
  }

  /** The calendar invitation for the window to `to`; the same UID throughout, a higher sequence on every change. */
  async invite(change: InviteChange, to: string[]): Promise<void> {
    const { audit } = this;
    // Resolved apart: the directory drops repeated people from one look-up.
    const [auditor, auditee] = (await acts.resolvePeople([{ person: this.leadAuditor }, { person: this.auditee }])) as [PersonRef, PersonRef];
    const [organizer] = (await acts.resolvePeople([{ person: this.settings?.aimsManagerId ?? this.leadAuditor }])) as [PersonRef];
    const recipients = await acts.resolvePeople(to.map((person) => ({ person })));
    const sequence = this.inviteSequence;
    this.inviteSequence += 1;
    const scope = scopeText(audit.scope);
    await this.recorder.notify(
      {
        kind: 'internal-audit.invitation',
        to: recipients,
        data: {
          title: `${audit.auditId}: ${audit.title}`,
          clauses: this.clauses,
          windowText: windowText(this.window),
          change,
          auditorName: auditor.name,
          auditeeName: auditee.name,
          instructions: `Objectives: ${this.objectives}\n\nCriteria: ${this.criteria}\n\nScope: ${scope}`,
        },
        invite: {
          uid: `${this.workflowId}@aimsflow`,
          title: `Internal audit ${audit.auditId}: ${audit.title}`,
          description: `Lead auditor: ${auditor.name}. Auditee: ${auditee.name}.\n\nScope: ${scope}`,
          start: this.window.start,
          end: this.window.end,
          sequence,
          cancelled: change === 'cancelled',
          organizer,
        },
      },
      `invite-${sequence}`,
    );
  }

  /** What every step's task and the report approval show about the audit. */
  context(): string {
    const { audit } = this;
    return [
      `Internal audit ${audit.auditId} (${this.spec.year}): ${audit.title}`,
      `Window: ${windowText(this.window)}. Lead auditor: ${this.leadAuditor}. Auditee: ${this.auditee}.`,
      `Scope: ${scopeText(audit.scope)}`,
      `Objectives: ${this.objectives}`,
      `Criteria: ${this.criteria}`,
    ].join('\n\n');
  }

  status(): AuditStatus {
    return {
      year: this.spec.year,
      auditId: this.audit.auditId,
      workflowId: this.workflowId,
      programmeWorkflowId: this.spec.programmeWorkflowId,
      title: this.audit.title,
      scope: this.audit.scope,
      window: this.window,
      leadAuditor: this.leadAuditor,
      auditee: this.auditee,
      state: this.state,
      inviteSequence: this.inviteSequence,
      currentStep: this.currentStep,
      plan: this.plan,
      fieldwork: this.fieldwork,
      findings: this.findings,
      ncIds: this.ncIds,
      reportedAt: this.reportedAt,
      cancellation: this.cancellation,
      timeline: this.timeline,
    };
  }

  private view() {
    const { audit, spec } = this;
    const aiSystem = audit.scope.aiSystems[0];
    return {
      attributes: [
        { key: searchAttributes.process, value: 'internal-audit' },
        { key: searchAttributes.ref, value: `IA-${spec.year}-${audit.auditId}` },
        { key: searchAttributes.owner, value: this.leadAuditor },
        { key: searchAttributes.state, value: this.state },
        { key: searchAttributes.dueDate, value: new Date(windowEndMs(this.window)) },
        { key: searchAttributes.clauses, value: this.clauses },
        ...(aiSystem ? [{ key: searchAttributes.aiSystem, value: aiSystem }] : []),
      ],
      memo: { kind: 'internal-audit', auditId: audit.auditId, year: spec.year, title: audit.title, state: this.state },
      details: `**${audit.auditId}** (${spec.year}) · ${stateText[this.state]} · ${audit.title} · auditor ${this.leadAuditor} · auditee ${this.auditee} · window ${windowText(this.window)}${this.ncIds.length ? ` · ${this.ncIds.length} NC(s) raised` : ''}`,
    };
  }

  result(): InternalAuditResult {
    return {
      auditId: this.audit.auditId,
      status: this.state === 'reported' ? 'reported' : 'cancelled',
      findings: this.findings,
      ncIds: this.ncIds,
      ...(this.reportedAt ? { reportedAt: this.reportedAt } : {}),
      ...(this.cancellation ? { cancellation: this.cancellation } : {}),
    };
  }
}
