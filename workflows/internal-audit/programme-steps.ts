/**
 * The steps of an internal audit programme: the plan (checked at start, or asked of the AIMS
 * manager), its approval, each audit as a child workflow with a reminder before its window and
 * an escalation at its end, and the year-end report.
 */
import { CancellationScope, ChildWorkflowFailure, condition, isCancellation, log, ParentClosePolicy, patched, startChild } from '@temporalio/workflow';
import { approvalOutcome, type ApprovalInput, type ApprovalOutcome } from '../../src/approval/schema.js';
import { INTERNAL_AUDIT_WORKFLOW, type InternalAuditWorkflow } from '../../src/internal-audit/contract.js';
import {
  addCounts,
  describeIssues,
  INTERNAL_AUDIT_PROGRAMME_INTERIM_REPORT,
  INTERNAL_AUDIT_PROGRAMME_REPORT,
  windowEndMs,
  windowStartMs,
  windowText,
  zeroCounts,
  type InternalAuditResult,
  type ProgrammeReportContent,
  type TrackedAudit,
} from '../../src/internal-audit/schema.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts } from '../lib/activities.js';
import { childFailed, childWorkflowId, failureText, FAILED_CHILD_PATCH, runApproval, runTask, STEP_ATTEMPTS, type Reask } from '../lib/children.js';
import { invalidInput, StepFailed } from '../lib/util.js';
import { closedAudit, plannedOf, started, type PendingPlan, type Programme } from './programme-state.js';

/** A plan given at start is checked like one submitted later; errors fail the start. */
export async function checkStartPlan(p: Programme): Promise<void> {
  const audits = p.spec.audits!;
  const result = await acts.validateInternalAuditPlan({ year: p.year, audits });
  if (result.errors.length) invalidInput(`Invalid internal audit programme: ${describeIssues(result.errors)}`);
  p.pendingPlan = { audits, by: p.spec.requestedBy, warnings: result.warnings, coverage: result.coverage };
}

/** A child of the programme failed: the timeline and the ledger say why (`what` names it). */
async function childFailedRecord(p: Programme, type: 'audit-failed' | 'step-failed', what: string, f: { key: string; workflowId: string; reason: string; failures: number; again: boolean }): Promise<void> {
  p.event(type, 'system', `${what}: ${f.reason}; ${f.again ? 'asked again' : `failed ${f.failures} times, given up`}`);
  p.publish();
  await p.recorder.append(`internal-audit-programme.${type}`, 'system', { step: f.key, workflowId: f.workflowId, reason: f.reason, failures: f.failures, askedAgain: f.again });
}

/** Re-asks a failed step of the programme, recording each failure. */
export const reaskStep = (p: Programme, what: string, onNext?: (workflowId: string) => void): Reask => ({
  onFailed: async (f) => {
    if (f.next) onNext?.(f.next.workflowId);
    await childFailedRecord(p, 'step-failed', what, { ...f, again: f.next !== undefined });
  },
});

/** Waits for a plan, with a task to the AIMS manager that reminds and escalates until it arrives. */
export async function awaitPlan(p: Programme, round: number, why: string): Promise<void> {
  p.state = 'planning';
  p.publish();
  for (let attempt = 1; !p.pendingPlan; attempt += 1) {
    const taskKey = `plan-${round}${attempt > 1 ? `-${attempt}` : ''}`;
    p.planTask = { workflowId: childWorkflowId(taskKey) };
    const scope = new CancellationScope();
    const task = scope.run(() =>
      runTask(taskKey, {
        title: `Plan the ${p.year} internal audit programme`,
        instructions: `${why}\n\nFor each audit give its scope (clauses, Annex A controls, processes, AI systems), a window within ${p.year}, a lead auditor who does not audit their own work, and the auditee (the process owner). Over ${p.coverageCycleYears} year(s) the audits must cover clauses 4-10 and every applicable Annex A control.\n\nPlan it in the console's audit planner (/console/plan/audit-programme/${p.year}), which checks impartiality and coverage as you type; or submit it through the admin API (PUT /admin/internal-audit-programmes/${p.year}/plan) or the admin CLI (aimsflow internal-audit plan ${p.year} --file plan.yaml). This task closes by itself once the plan is submitted; completing it here only records a note.`,
        clauses: p.clauses,
        process: 'internal-audit-programme',
        assignee: { person: p.aimsManager },
        dueAt: new Date(Date.now() + p.planDueMs).toISOString(),
        form: 'text',
        requestedBy: 'system',
        policy: p.spec.policy.tasks,
      }),
    );
    let done = false;
    let failed: string | undefined;
    const settled = task.then(
      () => {
        done = true;
      },
      (err: unknown) => {
        done = true;
        // Withdrawn: the plan arrived.
        if (isCancellation(err) && scope.consideredCancelled) return;
        // A planning task that failed (or was cancelled outside the programme): asked again with a fresh task.
        if (err instanceof ChildWorkflowFailure && patched(FAILED_CHILD_PATCH)) {
          failed = failureText(err);
          return;
        }
        if (!isCancellation(err)) throw err;
      },
    );
    await condition(() => p.pendingPlan !== undefined || done);
    if (!done) scope.cancel();
    await settled;
    if (failed !== undefined && !p.pendingPlan) {
      await childFailedRecord(p, 'step-failed', 'the planning task', { key: taskKey, workflowId: childWorkflowId(taskKey), reason: failed, failures: 1, again: true });
    } else if (!p.pendingPlan) p.event('plan-task-closed', p.aimsManager, 'the planning task was closed without a plan; asked again');
  }
  p.planTask = undefined;
}

/**
 * The plan's approval: by the AIMS manager, or by top management when the AIMS manager prepared
 * it (a plan from the admin API counts as theirs). A plan sent back is planned again.
 */
export async function approvePlan(p: Programme): Promise<PendingPlan> {
  for (let round = 1; ; round += 1) {
    const plan = p.pendingPlan!;
    p.warnings = plan.warnings;
    p.coverage = plan.coverage;
    p.state = 'approval';
    const approvalKey = `plan-approval-${round}`;
    p.approval = { workflowId: childWorkflowId(approvalKey), round };
    p.publish();
    await p.recorder.append('internal-audit-programme.plan', plan.by, { round, audits: plan.audits, warnings: plan.warnings, coverage: plan.coverage }, `plan-${round}`);
    const preparer = plan.by === 'system' ? p.aimsManager : plan.by;
    const input: ApprovalInput = {
      kind: 'internal-audit-programme',
      title: `Internal audit programme ${p.year}`,
      summary: [
        `Internal audit programme ${p.year}: ${plan.audits.length} audit(s).`,
        ...plan.audits.map(
          (a) => `${a.auditId} · ${a.title} · ${windowText(a.window)} · lead auditor ${a.leadAuditor}${a.team?.length ? ` · team ${a.team.join(', ')}` : ''} · auditee ${a.auditee} · scope: ${[...a.scope.clauses, ...a.scope.controls, ...a.scope.processes, ...a.scope.aiSystems].join(', ')}`,
        ),
        plan.warnings.length ? `Warnings:\n${plan.warnings.map((w) => `- ${w.message}`).join('\n')}` : 'Coverage: the AIMS scope is covered within the audit cycle.',
      ].join('\n\n'),
      contentHash: await acts.contentHash({ year: p.year, audits: plan.audits }),
      approvers: preparer === p.aimsManager ? [{ role: 'top-management' }] : [{ person: p.aimsManager }],
      rule: { type: 'any' },
      preparer,
      process: 'internal-audit-programme',
      clauses: p.clauses,
      dueAt: new Date(Date.now() + p.approvalDueMs).toISOString(),
      policy: p.spec.policy.tasks,
    };
    const outcome = await planDecision(p, approvalKey, input, round);
    if (outcome.approved) {
      p.approvedAt = outcome.decidedAt;
      const by = outcome.approvedBy;
      p.event('plan-approved', by.join(', ') || 'system', `plan approved (round ${round})`);
      await p.recorder.append('internal-audit-programme.approved', by[0] ?? 'system', { round, approvedBy: by, audits: plan.audits }, 'approved');
      p.approval = undefined;
      return plan;
    }
    p.lastRejection = outcome.reason;
    p.event('plan-rejected', outcome.rejectedBy ?? 'system', `plan sent back: ${outcome.reason}`);
    p.pendingPlan = undefined;
    await awaitPlan(p, round + 1, `The plan of the ${p.year} internal audit programme was sent back: ${outcome.reason}. Please revise it and submit it again.`);
  }
}

/**
 * The plan's approval, asked again when it fails; one that failed every time it was asked sends
 * the plan back to planning, like a rejection.
 */
async function planDecision(p: Programme, key: string, input: ApprovalInput, round: number): Promise<ApprovalOutcome & { decidedAt?: string }> {
  try {
    const decision = await runApproval(key, input, reaskStep(p, 'the plan approval', (workflowId) => (p.approval = { workflowId, round })));
    return { ...approvalOutcome(decision), decidedAt: decision.decidedAt };
  } catch (err) {
    if (!(err instanceof StepFailed)) throw err;
    return { approved: false, approvedBy: [], reason: `the approval could not run: ${err.reason}` };
  }
}

/** Waits until `atMs`, or until the audit changes or closes; true when the time came. */
async function waitUntil(p: Programme, a: TrackedAudit, gen: number, atMs: number): Promise<boolean> {
  return !(await condition(() => p.generation.get(a.auditId) !== gen || closedAudit(a), Math.max(1, atMs - Date.now())));
}

/** Reminder before the window and escalation at its end, re-armed when the audit changes. */
async function watch(p: Programme, a: TrackedAudit): Promise<void> {
  for (;;) {
    if (closedAudit(a)) return;
    const gen = p.generation.get(a.auditId) ?? 0;
    if (!a.reminded) {
      if (!(await waitUntil(p, a, gen, windowStartMs(a.window) - p.reminderBeforeMs))) continue;
      a.reminded = true;
      if (!started(a) && Date.now() < windowStartMs(a.window)) {
        const [auditor, auditee] = await acts.resolvePeople([{ person: a.leadAuditor }, { person: a.auditee }]);
        // A lead auditor no longer in the organization: the AIMS manager is reminded instead (to give the audit to another auditor).
        const gone = auditor?.unknown === true;
        const to = gone ? await acts.resolvePeople([{ person: p.aimsManager }]) : auditor ? [auditor] : [];
        const who = gone ? `${a.leadAuditor} is not in the organization; the AIMS manager is` : `${a.leadAuditor}`;
        p.event('auditor-reminded', 'system', `${a.auditId}: ${who} reminded of the window ${windowText(a.window)}`);
        await p.send('internal-audit.reminder', to, {
          title: `${a.auditId}: ${a.title}`,
          windowText: windowText(a.window),
          auditeeName: auditee?.name ?? a.auditee,
        });
      }
      continue;
    }
    // An audit already held is recorded after the fact: its past window is no reason to escalate.
    if (!a.escalated && !a.alreadyHeld) {
      if (!(await waitUntil(p, a, gen, windowEndMs(a.window)))) continue;
      if (started(a) || closedAudit(a)) {
        a.escalated = false;
      } else {
        a.escalated = true;
        p.publish();
        const [auditor] = await acts.resolvePeople([{ person: a.leadAuditor }]);
        const to = await acts.resolvePeople([{ person: p.aimsManager }, { role: 'top-management' }]);
        p.event('audit-escalated', 'system', `${a.auditId} not started by the end of its window ${windowText(a.window)}; escalated`);
        await p.recorder.append('internal-audit-programme.audit-overdue', 'system', { auditId: a.auditId, window: a.window, step: a.step });
        await p.send('internal-audit.escalated', to, {
          title: `${a.auditId}: ${a.title}`,
          windowText: windowText(a.window),
          auditorName: auditor?.name ?? a.leadAuditor,
          stateText: a.step === 'not-started' ? 'not started' : a.step,
        });
      }
    }
    await condition(() => p.generation.get(a.auditId) !== gen || closedAudit(a));
  }
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Starts an audit as a child workflow (cancelled with the programme), with its reminder and
 * escalation watch. An audit workflow that fails is started again as a fresh child
 * (`<workflow id>-r2`, ...), recorded; after three failures the audit counts as cancelled.
 */
export function startAudit(p: Programme, a: TrackedAudit): void {
  const scope = new CancellationScope();
  p.scopes.set(a.auditId, scope);
  const { policy } = p.spec;
  const firstId = a.workflowId;
  const run = scope
    .run(async () => {
      let watching: Promise<void> | undefined;
      let result: InternalAuditResult;
      for (let ask = 1; ; ask += 1) {
        const handle = await startChild<InternalAuditWorkflow>(INTERNAL_AUDIT_WORKFLOW, {
          workflowId: a.workflowId,
          args: [
            {
              year: p.year,
              audit: plannedOf(a),
              programmeWorkflowId: p.workflowId,
              policy: {
                ...(policy.stepDue ? { stepDue: policy.stepDue } : {}),
                ...(policy.approvalDue ? { approvalDue: policy.approvalDue } : {}),
                tasks: policy.tasks,
              },
            },
          ],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          staticSummary: `Internal audit ${a.auditId} (${p.year}): ${a.title}`,
          typedSearchAttributes: [
            { key: searchAttributes.process, value: 'internal-audit' },
            { key: searchAttributes.ref, value: `IA-${p.year}-${a.auditId}` },
            { key: searchAttributes.owner, value: a.leadAuditor },
          ],
        });
        p.handles.set(a.auditId, handle);
        watching ??= watch(p, a).catch((err: unknown) => {
          if (!isCancellation(err)) log.error('internal audit watch failed', { auditId: a.auditId, error: messageOf(err) });
        });
        try {
          result = await handle.result();
          break;
        } catch (err) {
          if (!childFailed(err) || !patched(FAILED_CHILD_PATCH)) throw err;
          const again = ask < STEP_ATTEMPTS;
          await childFailedRecord(p, 'audit-failed', `audit ${a.auditId} (${a.workflowId})`, { key: a.auditId, workflowId: a.workflowId, reason: failureText(err), failures: ask, again });
          if (!again) throw new StepFailed(`the audit workflow failed ${ask} times; the last time ${failureText(err)}`);
          a.workflowId = `${firstId}-r${ask + 1}`;
        }
      }
      if (result.status === 'reported') {
        a.step = 'reported';
        a.ncIds = result.ncIds;
        a.reportedAt = result.reportedAt;
      } else if (!a.cancellation && result.cancellation) {
        a.cancellation = result.cancellation;
      }
      p.publish();
      await watching;
    })
    .catch((err: unknown) => {
      const cancelled = isCancellation(err);
      if (!cancelled) log.error('internal audit failed', { auditId: a.auditId, error: messageOf(err) });
      const reason = err instanceof StepFailed ? err.reason : `the audit workflow failed: ${messageOf(err)}`;
      a.cancellation ??= { by: 'system', at: new Date().toISOString(), reason: cancelled ? 'cancelled' : reason };
      p.publish();
    });
  p.running.push(run);
}

/** The programme report's content as of now: coverage achieved, findings by type, the NCs raised and their state. */
async function reportContent(p: Programme): Promise<ProgrammeReportContent> {
  const { audits } = p;
  const reported = audits.filter((a) => a.state === 'reported');
  const coverage = await acts.internalAuditCoverage({ year: p.year, scopes: reported.map((a) => a.scope) });
  p.coverage = coverage;
  const ncIds = [...new Set(audits.flatMap((a) => a.ncIds))];
  const ncStates = await acts.nonconformityStates(ncIds);
  return {
    year: p.year,
    workflowId: p.workflowId,
    reportedAt: new Date().toISOString(),
    coverage,
    audits: audits.map((a) => ({
      auditId: a.auditId,
      title: a.title,
      state: a.state,
      unplanned: a.unplanned,
      window: a.window,
      leadAuditor: a.leadAuditor,
      findings: a.findings ?? null,
      ncIds: a.ncIds,
      cancellation: a.cancellation ?? null,
    })),
    counts: {
      planned: audits.filter((a) => !a.unplanned).length,
      reported: reported.length,
      cancelled: audits.filter((a) => a.state === 'cancelled').length,
      notReported: audits.filter((a) => a.state !== 'reported' && a.state !== 'cancelled').length,
      unplanned: audits.filter((a) => a.unplanned).length,
    },
    findingsByType: reported.reduce((sum, a) => addCounts(sum, a.findings ?? zeroCounts()), zeroCounts()),
    ncs: ncStates.map((n) => ({ ...n, auditId: audits.find((a) => a.ncIds.includes(n.ncId))?.auditId ?? '' })),
  };
}

/**
 * The year-end report of programmes that started before interim reports existed: written at the
 * year end, before the audits under way finish (`finishAudits`). Returns when it was written.
 */
export async function writeYearEndReport(p: Programme): Promise<string> {
  p.state = 'reporting';
  p.publish();
  const report = await reportContent(p);
  p.reportedAt = report.reportedAt;
  await p.recorder.append(INTERNAL_AUDIT_PROGRAMME_REPORT, 'system', report as unknown as Record<string, unknown>, 'report');
  p.event('reported', 'system', `year-end report written: ${report.counts.reported} audit(s) reported, ${report.coverage.uncovered.length} item(s) not covered in the cycle`);
  p.publish();
  return report.reportedAt;
}

/** Audits not started by the year end are cancelled; those under way finish before the programme closes. */
export async function finishAudits(p: Programme): Promise<void> {
  cancelNotStarted(p);
  await Promise.all(p.running);
}

/** Cancels the audits that have not started by the year end. */
function cancelNotStarted(p: Programme): void {
  for (const a of p.audits) {
    if (a.state === 'planned' || a.state === 'overdue') {
      a.cancellation = { by: 'system', at: new Date().toISOString(), reason: `not carried out within the ${p.year} programme` };
      p.event('audit-cancelled', 'system', `${a.auditId} cancelled: ${a.cancellation.reason}`);
      p.scopes.get(a.auditId)?.cancel();
    }
  }
  p.publish();
}

/**
 * The year end: audits not started are cancelled. While audits are still under way, an interim
 * report goes to the ledger and the programme waits for them; then the final report, with their
 * findings and NCs, naming the interim report it supersedes. Returns when the final report was
 * written.
 */
export async function reportTheYear(p: Programme): Promise<string> {
  cancelNotStarted(p);
  const underWay = p.audits.filter((a) => !closedAudit(a)).map((a) => a.auditId);
  let interim: string | null = null;
  if (underWay.length) {
    p.state = 'reporting';
    p.publish();
    const report: ProgrammeReportContent = { ...(await reportContent(p)), status: 'interim', underWay };
    interim = (await p.recorder.append(INTERNAL_AUDIT_PROGRAMME_INTERIM_REPORT, 'system', report as unknown as Record<string, unknown>, 'interim-report')).id;
    p.interimReportedAt = report.reportedAt;
    p.state = 'finishing';
    p.event('interim-reported', 'system', `interim report written; the final report follows once ${underWay.join(', ')} finish(es)`);
    p.publish();
    await Promise.all(p.running);
  }
  p.state = 'reporting';
  p.publish();
  const report: ProgrammeReportContent = { ...(await reportContent(p)), status: 'final', supersedes: interim };
  p.reportedAt = report.reportedAt;
  await p.recorder.append(INTERNAL_AUDIT_PROGRAMME_REPORT, 'system', report as unknown as Record<string, unknown>, 'report');
  p.event(
    'reported',
    'system',
    `year-end report written: ${report.counts.reported} audit(s) reported, ${report.coverage.uncovered.length} item(s) not covered in the cycle${interim ? '; it supersedes the interim report' : ''}`,
  );
  p.publish();
  await Promise.all(p.running);
  return report.reportedAt;
}
