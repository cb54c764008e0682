/**
 * The steps of an internal audit: the programme's changes applied as they arrive, each step as a
 * human task (restarted for a new lead auditor), the findings and the report's approval, the
 * nonconformities raised as corrective actions, and the report or the cancellation.
 */
import { CancellationScope, condition, isCancellation, patched } from '@temporalio/workflow';
import { auditorTaskConflicts, auditReportApproval, type ApprovalRouting } from '../../src/people/duties.js';
import { approvalOutcome } from '../../src/approval/schema.js';
import type { AuditFindingRow, FormKey } from '../../src/forms/index.js';
import {
  countFindings,
  findingsText,
  INTERNAL_AUDIT_REPORTED,
  windowEndMs,
  windowStartMs,
  windowText,
  type AuditFinding,
  type AuditReportedContent,
  type FindingCounts,
} from '../../src/internal-audit/schema.js';
import { IMPROVEMENT_CLAUSE, IMPROVEMENT_RAISED, improvementId, improvementSubject, type ImprovementRaisedContent } from '../../src/improvement/schema.js';
import { acts } from '../lib/activities.js';
import { childWorkflowId, raiseNonconformity, runApproval, runStep, type CompletedStep, type Reask } from '../lib/children.js';
import { unknownText } from '../lib/people.js';
import { formatDay, StepCancelled } from '../lib/util.js';
import type { Audit } from './audit-state.js';

/** Applies the changes the programme sent: a moved window, another auditor or another auditee. */
async function applyChanges(a: Audit): Promise<void> {
  while (a.pendingChanges.length) {
    const change = a.pendingChanges.shift()!;
    if (change.type === 'reschedule') {
      a.window = change.window;
      a.event('rescheduled', change.by, `window moved to ${windowText(a.window)}: ${change.reason}`);
      a.publish();
      await a.invite('rescheduled', [a.leadAuditor, a.auditee]);
    } else if (change.type === 'auditee') {
      if (change.auditee === a.auditee) continue;
      const previous = a.auditee;
      a.auditee = change.auditee;
      a.event('auditee-changed', change.by, `auditee ${previous} → ${a.auditee}: ${change.reason}`);
      a.publish();
      // The new auditee gets the window in their calendar; a running auditee step is a task and moves with its own handover.
      await a.invite('scheduled', [a.auditee]);
    } else if (change.leadAuditor !== a.leadAuditor) {
      const previous = a.leadAuditor;
      // The previous auditor's calendar entry is withdrawn, then the new auditor is invited.
      await a.invite('cancelled', [previous]);
      a.leadAuditor = change.leadAuditor;
      a.event('auditor-changed', change.by, `lead auditor ${previous} → ${a.leadAuditor}: ${change.reason}`);
      a.publish();
      a.auditorChanges += 1;
      a.auditorScope?.cancel();
      await a.invite('auditor-changed', [a.leadAuditor, a.auditee]);
    }
  }
}

/** Applies the programme's changes as they arrive, between and during the steps, until cancelled. */
export async function watchChanges(a: Audit): Promise<void> {
  for (;;) {
    await condition(() => a.pendingChanges.length > 0);
    await applyChanges(a);
  }
}

export interface AuditStep {
  key: string;
  title: string;
  instructions: string;
  form: FormKey;
  who: 'auditor' | 'auditee';
  dueAt: () => string;
  choices?: string[];
  /** The kind of the ledger record the completed step writes. */
  recordKind: string;
}

export const planStep = (a: Audit): AuditStep => ({
  key: 'audit-plan',
  title: 'Prepare the audit plan',
  instructions:
    'Write the audit plan: objectives, criteria and scope (as below, refined if needed), the schedule of the fieldwork, whom you will interview and which records you will sample.',
  form: 'text',
  who: 'auditor',
  dueAt: () => a.dueBy(windowStartMs(a.window)),
  recordKind: 'internal-audit.plan',
});

export const acknowledgeStep = (a: Audit): AuditStep => ({
  key: 'acknowledge',
  title: 'Acknowledge the audit plan',
  instructions: `The lead auditor sent the audit plan below. Acknowledge it, and note any constraint (people away, systems unavailable).\n\nAudit plan:\n${typeof a.plan?.text === 'string' ? a.plan.text : ''}`,
  form: 'choice',
  who: 'auditee',
  dueAt: () => a.dueBy(windowStartMs(a.window)),
  choices: ['Acknowledged', 'Acknowledged, with constraints in the note'],
  recordKind: 'internal-audit.acknowledged',
});

export const fieldworkStep = (a: Audit): AuditStep => ({
  key: 'fieldwork',
  title: 'Carry out the fieldwork',
  instructions:
    'Carry out the audit as planned: interviews, observation, record sampling. Summarize what was examined and link the working papers.',
  form: 'evidence',
  who: 'auditor',
  dueAt: () => a.dueBy(windowEndMs(a.window)),
  recordKind: 'internal-audit.fieldwork',
});

const findingsStep = (a: Audit, round: number, feedback: string): AuditStep => ({
  key: `findings-${round}`,
  title: 'Record the findings',
  instructions: `Record each finding: major nonconformity, minor nonconformity, observation or opportunity for improvement, with the clauses or controls concerned, the evidence and a statement. For a nonconformity, name who owns the corrective action (default: the auditee).${feedback}`,
  form: 'audit-findings',
  who: 'auditor',
  dueAt: () => new Date(Date.now() + a.stepDueMs).toISOString(),
  recordKind: 'internal-audit.findings',
});

/** A step's task or approval failed: the timeline and the ledger say why; the fresh child asked next is the current step. */
function stepFailed(a: Audit, what: string): Reask {
  return {
    onFailed: async (f) => {
      a.event('step-failed', 'system', `${what}: ${f.reason}; ${f.next ? 'asked again' : `failed ${f.failures} times, given up`}`);
      if (f.next) a.currentStep = f.next;
      a.publish();
      await a.recorder.append('internal-audit.step-failed', 'system', { step: f.key, workflowId: f.workflowId, reason: f.reason, failures: f.failures, askedAgain: f.next !== undefined });
    },
  };
}

/**
 * Runs one step as a human task and records it; an auditor step cancelled because the auditor
 * changed runs again for the new auditor (`<key>-2`, ...); a task that fails is asked again
 * (`<key>-r2`, ...), and after three failures the audit gives the step up and is cancelled.
 */
export async function runAuditStep(a: Audit, step: AuditStep): Promise<CompletedStep> {
  const { audit } = a;
  for (let attempt = 1; ; attempt += 1) {
    const taskKey = attempt === 1 ? step.key : `${step.key}-${attempt}`;
    a.currentStep = { key: taskKey, workflowId: childWorkflowId(taskKey) };
    a.event('step-started', 'system', step.title);
    a.publish();
    const scope = new CancellationScope();
    if (step.who === 'auditor') a.auditorScope = scope;
    const changesBefore = a.auditorChanges;
    let done: CompletedStep;
    try {
      done = await scope.run(() =>
        runStep(
          taskKey,
          {
            title: `${audit.auditId}: ${step.title}`,
            instructions: `${step.instructions}\n\n${a.context()}`,
            clauses: a.clauses,
            process: 'internal-audit',
            ...(audit.scope.aiSystems[0] ? { aiSystem: audit.scope.aiSystems[0] } : {}),
            assignee: { person: step.who === 'auditor' ? a.leadAuditor : a.auditee },
            dueAt: step.dueAt(),
            form: step.form,
            ...(step.choices ? { choices: step.choices } : {}),
            requestedBy: 'system',
            policy: a.spec.policy.tasks,
            // An auditor's task never goes to the auditee or an owner of an area in scope.
            ...(step.who === 'auditor' ? { conflicts: auditorTaskConflicts(a.settings?.duties, { auditee: a.auditee, scope: audit.scope }) } : {}),
          },
          step.title,
          stepFailed(a, step.title),
        ),
      );
    } catch (err) {
      a.auditorScope = undefined;
      const forNewAuditor = step.who === 'auditor' && a.auditorChanges !== changesBefore && (isCancellation(err) || err instanceof StepCancelled);
      if (forNewAuditor && !CancellationScope.current().consideredCancelled) {
        a.event('step-restarted', 'system', `${step.title}: restarted for the new lead auditor ${a.leadAuditor}`);
        continue;
      }
      throw err;
    }
    a.auditorScope = undefined;
    a.currentStep = undefined;
    a.event('step-completed', done.by, step.title);
    await a.recorder.append(step.recordKind, done.by, { step: taskKey, title: step.title, workflowId: done.workflowId, data: done.data }, taskKey);
    return done;
  }
}

/** Audits whose settings predate the separation-of-duties facts look them up at the report's approval. */
export const AUDIT_REPORT_DUTIES_PATCH = 'audit-report-approver-duties';

/**
 * Who approves the report (src/people/duties.ts): the AIMS manager, unless they lead or recorded
 * the audit, are the auditee or own an area in scope; then top management, without those of
 * them who are. Audits that reached this point before the rule existed keep the old routing.
 */
async function reportRouting(a: Audit, recordedBy: string): Promise<ApprovalRouting> {
  const aimsManagerId = a.settings!.aimsManagerId;
  const facts = a.settings?.duties ?? (patched(AUDIT_REPORT_DUTIES_PATCH) ? await acts.dutyFacts() : undefined);
  if (!facts) return { approvers: [a.leadAuditor, recordedBy].includes(aimsManagerId) ? [{ role: 'top-management' }] : [{ person: aimsManagerId }], conflicts: [] };
  return auditReportApproval({ ...facts, aimsManager: aimsManagerId }, { auditee: a.auditee, leadAuditor: a.leadAuditor, recordedBy, scope: a.audit.scope });
}

/** The approved report: the finding counts, who approved it, and the auditor's note. */
export interface ApprovedReport {
  counts: FindingCounts;
  approvedBy: string[];
  note: unknown;
}

/** The findings of a recorded row list, numbered `<auditId>-F<n>`; a nonconformity's owner defaults to the auditee. */
function numberFindings(a: Audit, rows: AuditFindingRow[]): AuditFinding[] {
  return rows.map((r, i) => ({
    findingId: `${a.audit.auditId}-F${i + 1}`,
    type: r.type,
    refs: r.refs,
    statement: r.statement,
    evidence: r.evidence,
    ...(r.type === 'major-nc' || r.type === 'minor-nc' ? { owner: r.owner ?? a.auditee } : {}),
  }));
}

/**
 * The lead auditor records the findings and the report goes for approval (the AIMS manager, or
 * top management when the AIMS manager led or recorded the audit); findings naming an unknown
 * owner, or a report sent back, are recorded again.
 */
export async function recordFindings(a: Audit): Promise<ApprovedReport> {
  const { audit } = a;
  let feedback = '';
  for (let round = 1; ; round += 1) {
    await a.setState('findings');
    const recorded = await runAuditStep(a, findingsStep(a, round, feedback));
    const rows = (recorded.data.findings ?? []) as AuditFindingRow[];
    const owners = [...new Set(rows.filter((r) => r.type === 'major-nc' || r.type === 'minor-nc').map((r) => r.owner ?? a.auditee))];
    try {
      const unknown = unknownText(await acts.resolvePeople(owners.map((person) => ({ person }))));
      if (unknown) {
        feedback = `\n\nThe previous findings could not be used: ${unknown}.`;
        continue;
      }
    } catch (err) {
      if (isCancellation(err)) throw err;
      feedback = `\n\nThe previous findings could not be used: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}.`;
      continue;
    }
    a.findings = numberFindings(a, rows);
    const counts = countFindings(a.findings);
    await a.setState('report-approval');
    const content = { auditId: audit.auditId, year: a.spec.year, scope: audit.scope, window: a.window, leadAuditor: a.leadAuditor, findings: a.findings, note: recorded.data.note ?? null };
    const contentHash = await acts.contentHash(content);
    const key = `report-approval-${round}`;
    a.currentStep = { key, workflowId: childWorkflowId(key) };
    a.publish();
    const routing = await reportRouting(a, recorded.by);
    const decision = await runApproval(key, {
      kind: 'internal-audit-report',
      title: `${audit.auditId}: internal audit report (${audit.title})`,
      summary: `${a.context()}\n\nFindings: ${findingsText(counts)}\n\n${a.findings
        .map((f) => `${f.findingId} (${f.type}, ${f.refs.join(', ')}): ${f.statement}\nEvidence: ${f.evidence}`)
        .join('\n\n')}${typeof recorded.data.note === 'string' ? `\n\nNote: ${recorded.data.note}` : ''}`,
      contentHash,
      approvers: routing.approvers,
      rule: { type: 'any' },
      preparer: recorded.by,
      conflicts: routing.conflicts,
      process: 'internal-audit',
      clauses: a.clauses,
      dueAt: new Date(Date.now() + a.approvalDueMs).toISOString(),
      policy: a.spec.policy.tasks,
    }, stepFailed(a, 'the report approval'));
    a.currentStep = undefined;
    const outcome = approvalOutcome(decision);
    if (outcome.approved) {
      a.event('report-approved', outcome.approvedBy.join(', ') || 'system', 'report approved');
      return { counts, approvedBy: outcome.approvedBy, note: recorded.data.note };
    }
    if (decision.status === 'cancelled') throw new Error('the approval of the audit report was cancelled');
    a.event('report-rejected', outcome.rejectedBy ?? 'system', `report sent back: ${outcome.reason}`);
    feedback = `\n\nThe previous report was sent back: ${outcome.reason}`;
  }
}

/** Each nonconformity becomes a corrective action that outlives this audit. */
export async function raiseNonconformities(a: Audit): Promise<void> {
  const { audit } = a;
  for (const f of a.findings) {
    if (f.type !== 'major-nc' && f.type !== 'minor-nc') continue;
    const nc = await raiseNonconformity(`nc-${f.findingId}`, {
      title: `${f.findingId}: ${f.statement.length > 150 ? `${f.statement.slice(0, 147)}...` : f.statement}`,
      description: `${f.statement}\n\nEvidence: ${f.evidence}\n\nRaised by internal audit ${audit.auditId} (${a.spec.year}): ${audit.title}, lead auditor ${a.leadAuditor}.`,
      severity: f.type === 'major-nc' ? 'major' : 'minor',
      source: 'internal-audit',
      sourceRef: f.findingId,
      clauses: f.refs,
      ...(audit.scope.aiSystems.length === 1 ? { aiSystem: audit.scope.aiSystems[0] } : {}),
      owner: f.owner ?? a.auditee,
      raisedBy: a.leadAuditor,
    });
    f.ncId = nc.ncId;
    a.ncIds.push(nc.ncId);
    a.event('nc-raised', 'system', `${nc.ncId} raised for ${f.findingId}`);
  }
}

/**
 * Each observation and opportunity for improvement becomes an improvement item (10.1) in the
 * ledger, open until the AIMS manager turns it into an action or dismisses it; management review
 * reads the open ones as its input (e).
 */
export async function raiseImprovements(a: Audit): Promise<void> {
  const { audit, spec } = a;
  for (const f of a.findings) {
    if (f.type !== 'observation' && f.type !== 'opportunity') continue;
    const id = improvementId(a.workflowId, f.findingId);
    const raisedAt = new Date().toISOString();
    const content: ImprovementRaisedContent = {
      improvementId: id,
      source: 'internal-audit',
      type: f.type,
      statement: f.statement,
      evidence: f.evidence,
      clauses: f.refs,
      finding: { findingId: f.findingId, type: f.type, refs: f.refs, statement: f.statement, evidence: f.evidence },
      audit: {
        year: spec.year,
        auditId: audit.auditId,
        workflowId: a.workflowId,
        programmeWorkflowId: spec.programmeWorkflowId,
        title: audit.title,
        leadAuditor: a.leadAuditor,
        auditee: a.auditee,
      },
      raisedBy: a.leadAuditor,
      raisedAt,
    };
    await acts.appendRecord({
      id: `${a.recorder.base}/improvement-${f.findingId}`,
      kind: IMPROVEMENT_RAISED,
      subject: improvementSubject(id),
      clauses: [...new Set([IMPROVEMENT_CLAUSE, '9.2', ...f.refs])],
      actor: a.leadAuditor,
      occurredAt: raisedAt,
      content,
    });
    f.improvementId = id;
    a.event('improvement-raised', 'system', `${id} raised for ${f.findingId}`);
  }
}

/** The report: mailed to the auditee, their manager, the owners in scope and the AIMS manager; the audit record to the ledger. */
export async function report(a: Audit, approved: ApprovedReport): Promise<void> {
  const { audit, spec } = a;
  a.state = 'reported';
  const reportedAt = new Date().toISOString();
  a.reportedAt = reportedAt;
  a.publish();
  const recipients = await acts.internalAuditReportRecipients({ auditee: a.auditee, scope: audit.scope });
  const [auditor] = await acts.resolvePeople([{ person: a.leadAuditor }]);
  await a.recorder.notify(
    {
      kind: 'internal-audit.report',
      to: recipients,
      data: {
        title: `${audit.auditId}: ${audit.title}`,
        clauses: a.clauses,
        windowText: windowText(a.window),
        auditorName: auditor?.name ?? a.leadAuditor,
        findingsText: findingsText(approved.counts),
        instructions: a.findings.length
          ? a.findings
              .map(
                (f) =>
                  `${f.findingId} · ${f.type} · ${f.refs.join(', ')}${f.ncId ? ` · ${f.ncId} (owner ${f.owner})` : ''}${f.improvementId ? ` · improvement item ${f.improvementId}` : ''}\n${f.statement}\nEvidence: ${f.evidence}`,
              )
              .join('\n\n')
          : `No findings. ${typeof approved.note === 'string' ? approved.note : ''}`,
      },
    },
    'report',
  );
  const content: AuditReportedContent = {
    year: spec.year,
    auditId: audit.auditId,
    workflowId: a.workflowId,
    programmeWorkflowId: spec.programmeWorkflowId,
    title: audit.title,
    objectives: a.objectives,
    criteria: a.criteria,
    scope: audit.scope,
    window: a.window,
    leadAuditor: a.leadAuditor,
    auditee: a.auditee,
    reportedAt,
    approvedBy: approved.approvedBy,
    findings: a.findings,
    findingCounts: approved.counts,
    ncIds: a.ncIds,
    distributedTo: recipients.map((p) => p.id),
  };
  await a.recorder.append(INTERNAL_AUDIT_REPORTED, a.leadAuditor, content as unknown as Record<string, unknown>, 'reported');
  a.event('reported', 'system', `reported on ${formatDay(Date.parse(reportedAt))}: ${findingsText(approved.counts)}`);
  await a.progress({ findings: approved.counts, ncIds: a.ncIds });
}

/** The audit ended without a report: the calendar entry is withdrawn and the cancellation recorded. */
export async function closeCancelled(a: Audit, reason: string): Promise<void> {
  a.state = 'cancelled';
  a.currentStep = undefined;
  a.cancellation = { by: 'system', at: new Date().toISOString(), reason };
  a.event('cancelled', 'system', reason);
  a.publish();
  await a.invite('cancelled', [a.leadAuditor, a.auditee]);
  await a.recorder.append('internal-audit.cancelled', 'system', { reason, timeline: a.timeline }, 'cancelled');
  await a.progress();
}
