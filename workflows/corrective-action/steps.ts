/**
 * The steps of a corrective action: a human task per step (its result to the ledger; a task
 * cancelled on its own is asked again), the action plan and its approval, the actions in
 * parallel, and the escalation of an NC still open past its overall target.
 */
import { ActivityFailure, condition, patched, sleep } from '@temporalio/workflow';
import { approvalOutcome, type ApprovalInput, type ApprovalResult } from '../../src/approval/schema.js';
import { calendarDay, pastDueActions } from '../../src/corrective-action/schema.js';
import type { FormKey, PlanAction } from '../../src/forms/index.js';
import { acts } from '../lib/activities.js';
import { askedKey, childFailed, childWorkflowId, failureText, FAILED_CHILD_PATCH, runApproval, runStep, STEP_ATTEMPTS, type CompletedStep } from '../lib/children.js';
import { unknownText } from '../lib/people.js';
import { formatDay, StepCancelled, StepFailed } from '../lib/util.js';
import { NC_RISK_REGISTER_PATCH, PLAN_APPROVER_PATCH, PLAN_DUE_DATES_PATCH, STEP_REASK_PATCH } from './patches.js';
import type { Risk } from '../../src/risk/schema.js';
import { actionPlanApproval, type ApprovalRouting } from '../../src/people/duties.js';
import type { Nonconformity } from './state.js';

export const dueIn = (ms: number) => new Date(Date.now() + ms).toISOString();

export interface StepOptions {
  /** Whom the step is for, looked at each time it is asked (a handover may move it); default the NC's owner. */
  assignee?: () => string;
  dueAt?: string;
  choices?: string[];
  recordKind: string;
}

/**
 * A step's child failed: the timeline and the ledger say why. After `STEP_ATTEMPTS` failures the
 * NC gives up on the step (`StepFailed`), which cancels it the way a step cancelled on its own did.
 */
async function stepFailed(nc: Nonconformity, key: string, child: string, reason: string, failures: number): Promise<void> {
  const again = failures < STEP_ATTEMPTS;
  nc.event('step-failed', 'system', `${reason}; ${again ? 'the step is asked again' : `the step failed ${failures} times and is given up`}`, { workflowId: child });
  await nc.recorder.append('nonconformity.step-failed', 'system', { step: key, workflowId: child, reason, failures, askedAgain: again });
  if (!again) throw new StepFailed(`the step ${key} failed ${failures} times; the last time ${reason}`);
}

/**
 * Runs one step as a human task (the owner's by default); returns who completed it, the form
 * data and the task's workflow id. A task cancelled on its own (its cancel update) is asked
 * again as a fresh task, `<key>-r2`, ...; the timeline records who cancelled it and why. A task
 * that fails is asked again the same way, up to `STEP_ATTEMPTS` times (see `stepFailed`).
 */
export async function step(
  nc: Nonconformity,
  key: string,
  title: string,
  instructions: string,
  form: FormKey,
  opts: StepOptions,
): Promise<CompletedStep> {
  const { spec } = nc;
  let failures = 0;
  for (let ask = 1; ; ask += 1) {
    const taskKey = askedKey(key, ask);
    const child = childWorkflowId(taskKey);
    nc.currentStep = { key: taskKey, workflowId: child };
    nc.event('step-started', 'system', title, { workflowId: child });
    nc.publish();
    let done: CompletedStep;
    try {
      done = await runStep(
        taskKey,
        {
          title: `${spec.ncId}: ${title}`,
          instructions: `${instructions}\n\n${nc.context()}`,
          clauses: nc.clauses,
          process: 'corrective-action',
          ...(spec.aiSystem ? { aiSystem: spec.aiSystem } : {}),
          assignee: { person: opts.assignee?.() ?? nc.owner },
          dueAt: opts.dueAt ?? dueIn(nc.stepDueMs),
          form,
          ...(opts.choices ? { choices: opts.choices } : {}),
          requestedBy: 'system',
          policy: spec.policy.tasks,
        },
        title,
      );
    } catch (err) {
      if (childFailed(err) && patched(FAILED_CHILD_PATCH)) {
        await stepFailed(nc, key, child, failureText(err), ++failures);
        continue;
      }
      if (!(err instanceof StepCancelled) || !patched(STEP_REASK_PATCH)) throw err;
      nc.event('step-reasked', err.by, `${err.reason}; the step is asked again`, { workflowId: child });
      continue;
    }
    nc.currentStep = undefined;
    nc.event('step-completed', done.by, title, { workflowId: child, data: done.data });
    await nc.recorder.append(opts.recordKind, done.by, { step: key, title, workflowId: child, data: done.data }, key);
    return done;
  }
}

/** Runs an approval as a step; one cancelled on its own (its cancel update), or failed, is asked again, `<key>-r2`, .... */
async function approvalStep(nc: Nonconformity, key: string, what: string, input: () => ApprovalInput): Promise<{ decision: ApprovalResult; workflowId: string }> {
  let failures = 0;
  for (let ask = 1; ; ask += 1) {
    const approvalKey = askedKey(key, ask);
    const workflowId = childWorkflowId(approvalKey);
    nc.currentStep = { key: approvalKey, workflowId };
    nc.publish();
    let decision: ApprovalResult;
    try {
      decision = await runApproval(approvalKey, input());
    } catch (err) {
      if (!childFailed(err) || !patched(FAILED_CHILD_PATCH)) throw err;
      await stepFailed(nc, key, workflowId, failureText(err), ++failures);
      continue;
    }
    nc.currentStep = undefined;
    if (decision.status !== 'cancelled') return { decision, workflowId };
    if (!patched(STEP_REASK_PATCH)) throw new StepCancelled('system', `the approval of ${what} was cancelled`);
    nc.event('step-reasked', 'system', `the approval of ${what} was cancelled; it is asked again`, { workflowId });
  }
}

/**
 * What makes a submitted plan unusable: an unknown owner, and (rule action-due-not-in-past)
 * an action due before today. Empty when the plan can go to approval.
 */
async function planProblems(planned: PlanAction[]): Promise<string[]> {
  const problems: string[] = [];
  try {
    const owners = await acts.resolvePeople(planned.map((a) => ({ person: a.owner })));
    if (unknownText(owners)) problems.push(unknownText(owners));
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    problems.push(err.cause?.message ?? err.message);
  }
  const late = pastDueActions(planned, calendarDay(Date.now()));
  if (late.length > 0 && patched(PLAN_DUE_DATES_PATCH)) problems.push(...late);
  return problems;
}

/**
 * The action plan for this cycle, approved by the AIMS manager (top management when the AIMS
 * manager owns the NC or planned it; the owner and whoever completed the plan never approve it). A plan that cannot be used, or is sent back, is asked for again with
 * the reason in the new task's instructions.
 */
export async function approvedPlan(nc: Nonconformity): Promise<PlanAction[]> {
  const { spec, cycle } = nc;
  const aimsManager = nc.aimsManagerId ?? 'system';
  let feedback = '';
  for (let round = 1; ; round += 1) {
    nc.state = 'action-plan';
    const plan = await step(
      nc,
      `action-plan-${cycle}-${round}`,
      'Plan the corrective actions',
      `List the actions that remove the root cause, proportionate to its effects: an owner, a due date and a description for each.${feedback}`,
      'action-plan',
      { recordKind: 'nonconformity.action-plan' },
    );
    const planned = (plan.data.actions ?? []) as PlanAction[];
    const problems = await planProblems(planned);
    if (problems.length > 0) {
      nc.event('plan-refused', plan.by, `action plan not usable, asked again: ${problems.join('; ')}`);
      feedback = `\n\nThe previous plan could not be used: ${problems.join('; ')}.`;
      continue;
    }
    const contentHash = await acts.contentHash({ ncId: spec.ncId, cycle, rootCause: nc.rootCauses.at(-1)?.rootCause ?? '', actions: planned });
    // The approver follows from the NC's owner, not only from who completed the plan (src/people/duties.ts).
    const routing: ApprovalRouting = patched(PLAN_APPROVER_PATCH)
      ? actionPlanApproval({ aimsManager, ncOwner: nc.owner, completedBy: plan.by })
      : { approvers: plan.by === aimsManager ? [{ role: 'top-management' }] : [{ person: aimsManager }], conflicts: [] };
    const { decision, workflowId } = await approvalStep(nc, `plan-approval-${cycle}-${round}`, 'the action plan', () => ({
      kind: 'corrective-action-plan',
      title: `${spec.ncId}: action plan (cycle ${cycle})`,
      summary: `${nc.context()}\n\nActions:\n${planned.map((a, i) => `${i + 1}. ${a.description} (owner ${a.owner}, due ${a.dueDate})`).join('\n')}`,
      contentHash,
      approvers: routing.approvers,
      rule: { type: 'any' },
      preparer: plan.by,
      conflicts: routing.conflicts,
      process: 'corrective-action',
      clauses: nc.clauses,
      dueAt: dueIn(nc.approvalDueMs),
      policy: spec.policy.tasks,
    }));
    const outcome = approvalOutcome(decision);
    if (outcome.approved) {
      nc.event('plan-approved', outcome.approvedBy[0] ?? 'system', `action plan approved (cycle ${cycle})`, { workflowId });
      return planned;
    }
    nc.event('plan-rejected', outcome.rejectedBy ?? 'system', `action plan sent back: ${outcome.reason}`, { workflowId });
    feedback = `\n\nThe previous plan was sent back: ${outcome.reason}`;
  }
}

/** Each planned action as its own task, in parallel, for its owner by its due date. */
export async function implement(nc: Nonconformity, planned: PlanAction[]): Promise<void> {
  const { cycle } = nc;
  nc.state = 'implementation';
  const first = nc.actions.length;
  planned.forEach((a, i) => nc.actions.push({ ...a, cycle, workflowId: childWorkflowId(`action-${cycle}-${i + 1}`), done: false }));
  nc.publish();
  await Promise.all(
    planned.map(async (a, i) => {
      const completed = await step(nc, `action-${cycle}-${i + 1}`, `Action ${i + 1}: ${a.description.slice(0, 120)}`, a.description, 'evidence', {
        // A handover of the action's owner moves the action for any later ask.
        assignee: () => nc.actions[first + i]?.owner ?? a.owner,
        dueAt: `${a.dueDate}T23:59:59Z`,
        recordKind: 'nonconformity.action',
      });
      const done = nc.actions[first + i];
      if (done) Object.assign(done, { done: true, workflowId: completed.workflowId });
    }),
  );
}

/** Waits, then asks whether the actions were effective; not effective starts the next analysis cycle. */
export async function effective(nc: Nonconformity): Promise<boolean> {
  nc.state = 'waiting-effectiveness';
  nc.event('step-started', 'system', `waiting ${Math.round(nc.effectivenessWaitMs / 86_400_000)} day(s) before the effectiveness review`);
  nc.publish();
  await sleep(nc.effectivenessWaitMs);
  nc.state = 'effectiveness-review';
  const review = await step(
    nc,
    `effectiveness-${nc.cycle}`,
    'Review the effectiveness of the corrective action',
    'Were the actions effective: has the nonconformity stopped and not recurred? Answer yes or no and justify with what you checked.',
    'yes-no',
    { recordKind: 'nonconformity.effectiveness' },
  );
  const answer = answerOf(review.data);
  nc.effectiveness.push({ cycle: nc.cycle, effective: answer.yes, justification: answer.justification, by: review.by, at: new Date().toISOString() });
  if (answer.yes) {
    nc.event('effective', review.by, `effective (cycle ${nc.cycle})`);
    return true;
  }
  nc.notEffectiveCount += 1;
  nc.event('not-effective', review.by, `not effective (cycle ${nc.cycle}); back to root cause analysis`, { data: { count: nc.notEffectiveCount } });
  nc.cycle += 1;
  return false;
}

/** Asks whether the management system must change (and its risks and opportunities, 10.2 e), and has the change made when it must. */
export async function changeSystemIfNeeded(nc: Nonconformity): Promise<void> {
  nc.state = 'system-change';
  // The decision also asks whether the risks must be updated, and a yes puts a risk in the register (issue #18).
  const withRisks = patched(NC_RISK_REGISTER_PATCH);
  const change = await step(
    nc,
    `system-change-${nc.cycle}`,
    'Does the management system need to change?',
    `Must the AI management system change because of this nonconformity (a process, a policy, a control)? Answer yes or no and justify.${withRisks ? ' Say also whether the risks and opportunities determined in planning must be updated (10.2 e); with yes, describe the risk: it goes to the risk register, linked to this nonconformity.' : ''}`,
    withRisks ? 'system-change' : 'yes-no',
    { recordKind: 'nonconformity.system-change-decision' },
  );
  const needed = answerOf(change.data);
  nc.systemChange = { required: needed.yes, justification: needed.justification };
  if (withRisks && change.data.updateRisks === 'yes') nc.systemChange.riskIds = [await registerRisk(nc, change.by, typeof change.data.risk === 'string' ? change.data.risk : needed.justification)];
  if (!needed.yes) return;
  await step(nc, 'system-change', 'Change the management system', `Make the change to the management system and attach the evidence. Why it is needed: ${needed.justification}`, 'evidence', {
    recordKind: 'nonconformity.system-change',
  });
}

/** 10.2 e: a risk in the register from this nonconformity (its AI system's, or AIMS-wide), owned by the NC owner. */
async function registerRisk(nc: Nonconformity, by: string, description: string): Promise<string> {
  const { spec } = nc;
  const [riskId] = await acts.allocateRiskIds([`${nc.recorder.base}/risk-${nc.cycle}`]);
  const now = new Date().toISOString();
  const risk: Risk = {
    riskId: riskId!,
    title: `From ${spec.ncId}: ${spec.title}`.slice(0, 200),
    description: description.slice(0, 5000),
    aiSystems: spec.aiSystem ? [spec.aiSystem] : [],
    source: { type: 'nonconformity', ref: spec.ncId },
    categories: ['accountability'],
    owner: nc.owner,
    state: 'identified',
    controls: [],
    links: [{ kind: 'nonconformity', ref: spec.ncId }],
    updatedAt: now,
    updatedBy: by,
  };
  await acts.recordRisks([{ id: `${nc.recorder.base}/risk/${risk.riskId}`, kind: 'risk.identified', risk, actor: by, change: `identified from nonconformity ${spec.ncId} (10.2 e)`, clauses: ['10.2'] }]);
  nc.event('risks-updated', by, `risk ${risk.riskId} added to the register (10.2 e)`);
  await nc.recorder.append('nonconformity.risks-updated', by, { riskIds: [risk.riskId] }, `risks-updated-${nc.cycle}`);
  return risk.riskId;
}

/** A yes/no step's answer and justification. */
function answerOf(data: Record<string, unknown>): { yes: boolean; justification: string } {
  return { yes: data.answer === 'yes', justification: typeof data.justification === 'string' ? data.justification : '' };
}

/** Past the overall target with the NC still open: escalate it to top management, once. */
export async function watchTarget(nc: Nonconformity): Promise<void> {
  if (await condition(() => nc.isClosed(), Math.max(1, nc.targetAtMs - Date.now()))) return;
  nc.overdue = true;
  nc.event('escalated', 'system', `open past its target date ${formatDay(nc.targetAtMs)}; escalated to top management`);
  nc.publish();
  const [owner, ...top] = await acts.resolvePeople([{ person: nc.owner }, { role: 'top-management' }]);
  const ownerName = owner?.name ?? nc.owner;
  // An owner no longer in the organization: the AIMS manager owns the NC from now on.
  if (owner?.unknown) nc.ownerGone(owner.id);
  await nc.recorder.append('nonconformity.escalated', 'system', { targetAt: nc.targetAt(), state: nc.state, to: top.map((p) => p.id) }, 'escalated');
  await nc.send('nc.escalated', top, {
    ownerName,
    severity: nc.spec.severity,
    targetDate: nc.targetAt(),
    stateText: nc.stateText(),
  });
}
