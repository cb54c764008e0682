/**
 * The steps of an impact assessment (6.1.4, 8.4, A.5): scoping by the system owner, the impacts
 * on individuals, groups and society, the review by AI governance, the sign-off bound to the
 * content hash, the record (A.5.3), and a risk-treatment task for every impact that stays at
 * or above the threshold after mitigation.
 */
import { approvalOutcome } from '../../src/approval/schema.js';
import { CancellationScope, isCancellation, patched } from '@temporalio/workflow';
import { resultingLevel, scoreImpacts, signOffRoute, impactAreaText, type ImpactScope, type ScoredImpact } from '../../src/ai-system/impact-assessment.js';
import { impactScaleChoices, type ImpactRow } from '../../src/forms/index.js';
import { approverConflicts, impactReviewer } from '../../src/people/duties.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import type { Ending } from '../lib/lifecycle.js';
import { acts } from '../lib/activities.js';
import { childWorkflowId, runApproval, runStep, startDetachedTask, type CompletedStep, type Reask } from '../lib/children.js';
import type { Risk } from '../../src/risk/schema.js';
import { StepCancelled } from '../lib/util.js';
import type { ImpactAssessment, StepTask } from './assessment-state.js';

const REVIEW_CHOICES = ['approve', 'send back'];

/** Sign-offs of high-tier systems go to top management whatever the level (issue #13). */
const SIGN_OFF_BY_TIER_PATCH = 'impact-assessment-sign-off-by-tier';

/** The sign-off leaves out the system owner: the AIMS manager who owns it goes to top management, a top manager who owns it does not sign. */
const SIGN_OFF_NOT_OWNER_PATCH = 'impact-assessment-sign-off-not-owner';

/** High residual impacts go to the risk register instead of free-standing risk-treatment tasks (issue #18). */
const RISK_REGISTER_PATCH = 'impact-assessment-risk-register';

/** The review goes to an AI-governance member who neither owns the system nor assessed it. */
const REVIEWER_NOT_OWNER_PATCH = 'impact-assessment-reviewer-not-owner';

/** A step's task or the sign-off failed: the timeline and the ledger say why; the fresh child asked next is the current step. */
function stepFailed(a: ImpactAssessment, what: string): Reask {
  return {
    onFailed: async (f) => {
      a.event('step-failed', 'system', `${what}: ${f.reason}; ${f.next ? 'asked again' : `failed ${f.failures} times, given up`}`, f.workflowId);
      if (f.next) a.currentStep = f.next;
      a.publish();
      await a.recorder.append('impact-assessment.step-failed', 'system', { step: f.key, workflowId: f.workflowId, reason: f.reason, failures: f.failures, askedAgain: f.next !== undefined });
    },
  };
}

/** Runs a step's human task as a child; the status names it while it runs. A task that fails is asked again. */
async function step(a: ImpactAssessment, key: string, title: string, instructions: string, task: StepTask): Promise<CompletedStep> {
  a.stepStarted(key, title);
  const done = await runStep(key, a.taskInput(title, instructions, task), title, stepFailed(a, title));
  a.currentStep = undefined;
  return done;
}

/** 1. The system owner scopes the assessment. */
export async function scopeAssessment(a: ImpactAssessment): Promise<void> {
  const scoped = await step(
    a,
    'scoping',
    'Scope the impact assessment',
    'Describe the intended use, the reasonably foreseeable misuse, the deployment context, the jurisdictions and who is affected: individuals, groups and society.',
    { assignee: { person: a.system.owner }, form: 'impact-scoping', dueMs: a.due.scoping },
  );
  a.scope = { ...(scoped.data as unknown as ImpactScope), by: scoped.by };
  a.event('scoped', scoped.by, `scoped: ${a.scope.jurisdictions.join(', ')}`, scoped.workflowId);
  await a.recorder.append('impact-assessment.scoped', scoped.by, { scope: a.scope }, 'scoped');
}

/** 2. The system owner rates the impacts on the organization's scales, with mitigations; returns who assessed them. */
export async function assessImpacts(a: ImpactAssessment, feedback: string): Promise<string> {
  const { round, settings } = a;
  a.state = 'assessment';
  const assessed = await step(
    a,
    `assessment-${round}`,
    `Assess the impacts${round > 1 ? ` (round ${round})` : ''}`,
    `List the impacts on individuals or groups (A.5.4) and on society (A.5.5): for each, its severity (${settings.severityScale.join(', ')}) and likelihood (${settings.likelihoodScale.join(', ')}), the mitigation, and the severity and likelihood that remain after it.${feedback}`,
    { assignee: { person: a.system.owner }, form: 'impact-assessment', choices: impactScaleChoices(settings.severityScale, settings.likelihoodScale), dueMs: a.due.assessment },
  );
  a.impacts = scoreImpacts((assessed.data.impacts ?? []) as ImpactRow[], settings);
  a.level = resultingLevel(a.impacts);
  a.assessedBy = assessed.by;
  a.assessedChanges();
  a.event('assessed', assessed.by, `${a.impacts.length} impact(s) assessed; resulting level ${a.level}`, assessed.workflowId);
  await a.recorder.append('impact-assessment.assessed', assessed.by, { round, impacts: a.impacts, level: a.level, note: assessed.data.note ?? null }, `assessed-${round}`);
  return assessed.by;
}

/**
 * The reviewer (src/people/duties.ts): the first AI-governance member who neither owns the system
 * nor assessed it, else the AIMS manager, else top management; neither may take the review over.
 * Reviews asked before the rule existed go to the role as they did.
 */
async function reviewer(a: ImpactAssessment): Promise<Pick<StepTask, 'assignee' | 'conflicts'>> {
  if (!patched(REVIEWER_NOT_OWNER_PATCH)) return { assignee: { role: 'ai-governance' } };
  const members = await acts.resolvePeople([{ role: 'ai-governance' }]);
  const routed = impactReviewer({
    members: members.filter((m) => !m.unknown && !m.insteadOf).map((m) => m.id),
    systemOwner: a.system.owner,
    assessedBy: a.assessedBy,
    aimsManager: a.settings.aimsManagerId,
  });
  return { assignee: routed.reviewer, conflicts: routed.conflicts };
}

/** 3. AI governance reviews: approves, or sends it back; returns the feedback for the next round when sent back. */
export async function review(a: ImpactAssessment): Promise<string | undefined> {
  const { round } = a;
  a.state = 'review';
  const reviewed = await step(
    a,
    `review-${round}`,
    `Review the impact assessment${round > 1 ? ` (round ${round})` : ''}`,
    'Review the scope and the impacts. Approve, or send it back with your comments in the note (the assessment is done again).',
    { ...(await reviewer(a)), form: 'choice', choices: REVIEW_CHOICES, dueMs: a.due.review },
  );
  const comments = typeof reviewed.data.note === 'string' ? reviewed.data.note : '';
  await a.recorder.append('impact-assessment.reviewed', reviewed.by, { round, decision: reviewed.data.choice, comments }, `reviewed-${round}`);
  if (reviewed.data.choice === 'approve') {
    a.event('approved-by-review', reviewed.by, 'approved by the review', reviewed.workflowId);
    return undefined;
  }
  a.sendBacks += 1;
  a.event('sent-back', reviewed.by, `sent back by the review${comments ? `: ${comments}` : ''}`, reviewed.workflowId);
  return `\n\nThe review sent the previous assessment back${comments ? `: ${comments}` : ' without comments'}.`;
}

/**
 * 4. Sign-off of exactly what was assessed (bound to its content hash): by top management at
 * or above the threshold, for a high-tier system whatever the level, or when the AIMS manager
 * assessed or owns it; by the AIMS manager otherwise. The owner never signs it off.
 * Returns the feedback for the next round when refused.
 */
export async function signOff(a: ImpactAssessment, preparer: string): Promise<string | undefined> {
  const { round, settings } = a;
  const level = a.level ?? 0;
  a.state = 'sign-off';
  // The system owner scoped what is signed off: neither they nor the assessor sign it (sign-offs asked before this keep their approver).
  const owner = patched(SIGN_OFF_NOT_OWNER_PATCH) ? a.system.owner : undefined;
  const route = signOffRoute({ level, threshold: settings.signOffThreshold, impactTier: a.system.impactTier, preparer, owner, aimsManagerId: settings.aimsManagerId });
  // A sign-off requested before the impact-tier rule existed keeps the approver it was sent to.
  const role = route.reason === 'impact-tier' && !patched(SIGN_OFF_BY_TIER_PATCH) ? 'aims-manager' : route.role;
  const signer = role === 'top-management' ? 'top management' : 'the AIMS manager';
  const contentHash = await acts.contentHash(a.content());
  a.contentHash = contentHash;
  const key = `sign-off-${round}`;
  const why = role === 'top-management' && route.reason === 'impact-tier' ? `, ${a.system.impactTier} impact tier` : '';
  a.stepStarted(key, `sign-off requested from ${signer} (level ${level}, threshold ${settings.signOffThreshold}${why})`);
  const decision = await runApproval(key, {
    kind: 'impact-assessment',
    title: `${a.system.name}: impact assessment ${a.spec.assessmentRef} (level ${level})`.slice(0, 200),
    summary: a.context().slice(0, 20000),
    contentHash,
    approvers: [role === 'top-management' ? { role: 'top-management' } : { person: settings.aimsManagerId }],
    rule: { type: 'any' },
    preparer,
    conflicts: approverConflicts({ preparedBy: [owner] }),
    process: 'impact-assessment',
    clauses: a.clauses,
    dueAt: a.dueIn(a.due.signOff),
    policy: a.spec.policy.tasks,
  }, stepFailed(a, 'the sign-off'));
  a.currentStep = undefined;
  const outcome = approvalOutcome(decision);
  if (outcome.approved) {
    a.signOff = { role, by: outcome.approvedBy[0] ?? 'system', at: decision.decidedAt, contentHash };
    a.event('signed-off', a.signOff.by, `signed off by ${signer}`, decision.approvalId);
    return undefined;
  }
  if (decision.status === 'cancelled') throw new StepCancelled('system', 'the sign-off was cancelled');
  a.signOffRefusals += 1;
  a.event('sign-off-refused', outcome.rejectedBy ?? 'system', `sign-off refused: ${outcome.reason}`, decision.approvalId);
  return `\n\nThe sign-off refused the previous assessment: ${outcome.reason}`;
}

/**
 * 3-4. The review, then the sign-off. A significant change attached meanwhile cancels the running
 * review task or sign-off approval (voiding the request) and sends the assessment back to step 2.
 * Returns the feedback for another round, or undefined once signed off.
 */
export async function reviewAndSignOff(a: ImpactAssessment, assessedBy: string): Promise<string | undefined> {
  const scope = new CancellationScope();
  a.reviewScope = scope;
  try {
    const back = await scope.run(async () => (await review(a)) ?? (await signOff(a, assessedBy)));
    // A change that came in with the sign-off's decision goes back to the assessment all the same.
    return back === undefined && a.awaitingAssessment().length > 0 ? await reopen(a) : back;
  } catch (err) {
    const reopened = scope.consideredCancelled && !CancellationScope.current().consideredCancelled && (isCancellation(err) || err instanceof StepCancelled);
    if (!reopened || a.awaitingAssessment().length === 0) throw err;
    return reopen(a);
  } finally {
    a.reviewScope = undefined;
  }
}

/** Back to the assessment step for the changes announced during the review or sign-off; returns the feedback for the next round. */
async function reopen(a: ImpactAssessment): Promise<string> {
  const changes = a.awaitingAssessment();
  const step = a.state === 'sign-off' ? 'sign-off' : 'review';
  a.currentStep = undefined;
  a.signOff = undefined;
  a.reopened += 1;
  a.event('reopened', 'system', `back to the assessment: ${changes.length} significant change(s) announced during the ${step}`);
  await a.recorder.append('impact-assessment.reopened', 'system', { round: a.round, step, changes }, `reopened-${a.round}`);
  const list = changes.map((c) => `- ${c.type} (${c.by}): ${c.why}`).join('\n');
  return `\n\nSignificant change(s) were announced during the ${step}, which was withdrawn. Assess the impacts again with them:\n${list}`;
}

/** 5. The record (A.5.3); returns the impacts whose residual level calls for risk treatment, numbered from 1. */
export async function record(a: ImpactAssessment): Promise<Array<{ impact: ScoredImpact; n: number }>> {
  const { settings } = a;
  const signed = a.signOff!;
  a.recordedAt = new Date().toISOString();
  const high = a.impacts.map((impact, i) => ({ impact, n: i + 1 })).filter(({ impact }) => impact.residualLevel >= settings.riskTreatmentThreshold);
  // High residual impacts go to the risk register (openRiskTreatments); before, each opened a task.
  if (!patched(RISK_REGISTER_PATCH)) for (const { impact, n } of high) a.riskTreatments.push({ workflowId: childWorkflowId(`risk-treatment-${n}`), impact: n, residualLevel: impact.residualLevel });
  a.state = 'recorded';
  const level = a.level ?? 0;
  await a.recorder.append(
    'impact-assessment.recorded',
    signed.by,
    {
      system: a.system,
      trigger: a.spec.trigger,
      // Only what went through the assessment step (a change still awaiting it never reaches here).
      changes: a.assessed(),
      scope: a.scope,
      impacts: a.impacts,
      level,
      assessedBy: a.assessedBy,
      signOff: signed,
      contentHash: signed.contentHash,
      sendBacks: a.sendBacks,
      signOffRefusals: a.signOffRefusals,
      riskTreatmentThreshold: settings.riskTreatmentThreshold,
      signOffThreshold: settings.signOffThreshold,
      riskTreatments: a.riskTreatments,
      recordedAt: a.recordedAt,
    },
    'recorded',
  );
  a.event('recorded', 'system', `recorded in the ledger (level ${level})`);
  return high;
}

/**
 * 6. Each high residual impact creates a risk in the register, or updates the open risk an
 * earlier assessment of this system created for the same impact (issue #18); the AI system's
 * workflow then starts a risk assessment that treats it. Assessments from before open a
 * risk-treatment task for the system owner per high residual impact instead.
 */
export async function openRiskTreatments(a: ImpactAssessment, high: Array<{ impact: ScoredImpact; n: number }>): Promise<void> {
  if (patched(RISK_REGISTER_PATCH)) return registerRisks(a, high);
  const threshold = a.settings.riskTreatmentThreshold;
  for (const { impact, n } of high) {
    const key = `risk-treatment-${n}`;
    await startDetachedTask(
      key,
      {
        title: `${a.system.name}: treat the residual impact ${n} (level ${impact.residualLevel})`.slice(0, 200),
        instructions: [
          `The impact assessment ${a.assessmentId} found an impact whose residual level ${impact.residualLevel} is at or above the risk-treatment threshold ${threshold}.`,
          `On ${impactAreaText[impact.area]}: ${impact.description}`,
          `Mitigation so far: ${impact.mitigation}`,
          `After mitigation: ${impact.residualSeverity} × ${impact.residualLikelihood}.`,
          'Treat the risk (6.1.3, 8.3): reduce it further or have the residual risk accepted, and attach the evidence.',
        ].join('\n\n'),
        clauses: ['6.1.3', '8.3', impact.area === 'society' ? 'A.5.5' : 'A.5.4'],
        process: 'impact-assessment',
        aiSystem: a.system.id,
        assignee: { person: a.system.owner },
        dueAt: a.dueIn(a.due.riskTreatment),
        form: 'evidence',
        requestedBy: 'system',
        policy: a.spec.policy.tasks,
      },
      { typedSearchAttributes: [{ key: searchAttributes.process, value: 'impact-assessment' }] },
    );
    a.event('risk-treatment-opened', 'system', `risk-treatment task for impact ${n} (residual level ${impact.residualLevel})`, childWorkflowId(key));
  }
}

/** High residual impacts as risks of the register: created, or the open risk for the same impact updated. */
async function registerRisks(a: ImpactAssessment, high: Array<{ impact: ScoredImpact; n: number }>): Promise<void> {
  if (!high.length) return;
  const open = await acts.scopeRisks(a.system.id);
  const fresh = high.filter(({ impact }) => !open.some((r) => r.source.type === 'impact-assessment' && r.description === impact.description));
  const ids = await acts.allocateRiskIds(fresh.map(({ n }) => `${a.recorder.base}/impact-${n}`));
  const now = new Date().toISOString();
  const versions = high.map(({ impact, n }) => {
    const found = open.find((r) => r.source.type === 'impact-assessment' && r.description === impact.description);
    const link = { kind: 'impact-assessment' as const, ref: a.assessmentId };
    const risk: Risk = found
      ? (({ recordId: _, version: __, ...r }) => ({ ...r, state: r.state === 'review-due' ? 'assessed' : r.state, links: [...r.links, link], updatedAt: now, updatedBy: 'system' }))(found)
      : {
          riskId: ids[fresh.findIndex((f) => f.n === n)]!,
          title: `${impact.area === 'society' ? 'Societal impact' : `Impact on ${impact.area}`}: ${impact.description}`.replace(/\s+/g, ' ').slice(0, 200),
          description: impact.description,
          aiSystems: [a.system.id],
          source: { type: 'impact-assessment', ref: a.assessmentId },
          categories: [impact.area === 'society' ? 'safety' : 'fairness'],
          owner: a.system.owner,
          state: 'identified',
          controls: [],
          links: [link],
          updatedAt: now,
          updatedBy: 'system',
        };
    a.risks.push({ riskId: risk.riskId, impact: n, residualLevel: impact.residualLevel, created: !found });
    return {
      id: `${a.recorder.base}/risk/${risk.riskId}/impact-${n}`,
      kind: found ? ('risk.updated' as const) : ('risk.identified' as const),
      risk,
      actor: 'system',
      change: `${found ? 'found again' : 'identified'} by impact assessment ${a.assessmentId}: residual impact level ${impact.residualLevel} at or above ${a.settings.riskTreatmentThreshold}`,
      clauses: [impact.area === 'society' ? 'A.5.5' : 'A.5.4'],
    };
  });
  await acts.recordRisks(versions);
  a.event('risks-registered', 'system', `risk register: ${a.risks.map((r) => `${r.riskId} (${r.created ? 'new' : 'updated'})`).join(', ')}`);
  await a.recorder.append('impact-assessment.risks-registered', 'system', { risks: a.risks }, 'risks-registered');
}

/** A step cancelled on its own, or the assessment cancelled: the reason goes to the ledger. */
export async function closeCancelled(a: ImpactAssessment, ending: Exclude<Ending<void>, { kind: 'done' }>): Promise<void> {
  const at = new Date().toISOString();
  a.cancellation =
    ending.kind === 'step-cancelled'
      ? { by: ending.by, at, reason: ending.reason }
      : { by: 'system', at, reason: 'cancelled by the AI system workflow (the system was retired) or an operator' };
  a.state = 'cancelled';
  a.currentStep = undefined;
  a.event('cancelled', a.cancellation.by, `cancelled: ${a.cancellation.reason}`);
  a.publish();
  await a.recorder.append('impact-assessment.cancelled', a.cancellation.by, { reason: a.cancellation.reason, round: a.round, sendBacks: a.sendBacks, changes: a.changes, timeline: a.recorder.timeline }, 'cancelled');
}
