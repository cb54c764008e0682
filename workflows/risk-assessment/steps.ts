/**
 * The steps of a risk assessment (ISO/IEC 42001 6.1.2, 6.1.3, 8.2, 8.3): identify (confirm or
 * close the open risks, add new ones), analyse and evaluate against the criteria, treat (option,
 * controls, the Annex A comparison, the plan), the plan's approval by the risk owners, top
 * management's acceptance of every residual risk at or above the criterion (bound to the risk
 * as decided), the plan's actions as tasks, the verification, and the record with the
 * Statement of Applicability version that follows from it.
 */
import { approvalOutcome, type ApprovalResult } from '../../src/approval/schema.js';
import { riskStepChoices, type ComparisonRow, type NewRiskRow, type TreatmentPlanRow, type TreatmentRow } from '../../src/forms/index.js';
import { residualAcceptanceConflicts, treatmentPlanApproval } from '../../src/people/duties.js';
import { needsTopManagementAcceptance, needsTreatment } from '../../src/risk/criteria.js';
import { aimsScope, type Risk } from '../../src/risk/schema.js';
import { soaEditsFromTreatment } from '../../src/soa/schema.js';
import { isAnnexAControl } from '../../src/soa/annex-a.js';
import type { Ending } from '../lib/lifecycle.js';
import { acts } from '../lib/activities.js';
import { runApproval, runStep, type CompletedStep, type Reask } from '../lib/children.js';
import { StepCancelled } from '../lib/util.js';
import type { RiskAssessment, StepTask } from './state.js';

const VERIFY_CHOICES = ['effective', 'not effective'];

function stepFailed(r: RiskAssessment, what: string): Reask {
  return {
    onFailed: async (f) => {
      r.event('step-failed', 'system', `${what}: ${f.reason}; ${f.next ? 'asked again' : `failed ${f.failures} times, given up`}`, f.workflowId);
      if (f.next) r.currentStep = f.next;
      r.publish();
      await r.recorder.append('risk-assessment.step-failed', 'system', { step: f.key, workflowId: f.workflowId, reason: f.reason, failures: f.failures, askedAgain: f.next !== undefined });
    },
  };
}

async function step(r: RiskAssessment, key: string, title: string, instructions: string, task: StepTask): Promise<CompletedStep> {
  r.stepStarted(key, title);
  const done = await runStep(key, r.taskInput(title, instructions, task), title, stepFailed(r, title));
  r.currentStep = undefined;
  return done;
}

const scales = (r: RiskAssessment) => ({ likelihood: r.criteria.likelihoodScale, consequence: r.criteria.consequenceScale });
const open = (r: RiskAssessment) => r.risks.filter((x) => x.state !== 'closed');
/** The risks this round treats: every open risk whose inherent level needs treatment. */
export const toTreat = (r: RiskAssessment) => open(r).filter((x) => x.inherent && needsTreatment(r.criteria, x.inherent.level));

/** 1. Identify (6.1.2 c): the assessor confirms or closes each open risk of the scope and adds new ones. */
export async function identify(r: RiskAssessment): Promise<void> {
  r.state = 'identify';
  r.risks = (await acts.scopeRisks(r.spec.scope)).map(({ recordId: _, version: __, ...risk }) => ({ ...risk, state: risk.state === 'review-due' ? 'assessed' : risk.state }));
  const done = await step(
    r,
    'identify',
    'Identify the AI risks',
    `Confirm or close each open risk below, and add the risks you see (Annex C categories: fairness, privacy, safety, security, transparency, robustness, accountability, ...), with an owner for each. Consider the impact assessments, incidents, audit findings and changes.`,
    { assignee: { person: r.settings.assessor }, form: 'risk-identification', choices: riskStepChoices(r.risks), dueMs: r.dueMs('identify') },
  );
  const existing = (done.data.existing ?? []) as Array<{ riskId: string; decision: 'confirm' | 'close'; reason?: string }>;
  const closed = existing.filter((e) => e.decision === 'close');
  for (const c of closed) r.update(c.riskId, done.by, { state: 'closed', closed: { by: done.by, at: new Date().toISOString(), reason: c.reason ?? '' } });
  r.closedRisks = closed.map((c) => c.riskId);
  await r.recordRisks('risk.closed', 'closed', closed.map((c) => ({ risk: r.risk(c.riskId), change: `closed in ${r.assessmentId}: ${c.reason ?? ''}` })), done.by);
  const rows = (done.data.risks ?? []) as NewRiskRow[];
  const ids = await acts.allocateRiskIds(rows.map((_, i) => `${r.recorder.base}/new-${i}`));
  const now = new Date().toISOString();
  const added: Risk[] = rows.map((row, i) => ({
    riskId: ids[i]!,
    title: row.title,
    description: row.description,
    aiSystems: r.spec.scope === aimsScope ? [] : [r.spec.scope],
    source: { type: r.spec.trigger === 'change' ? 'change' : r.spec.trigger === 'impact-assessment' ? 'impact-assessment' : 'risk-assessment', ref: r.assessmentId },
    categories: row.categories,
    owner: row.owner ?? r.settings.assessor,
    state: 'identified',
    controls: [],
    links: [{ kind: 'risk-assessment', ref: r.assessmentId }],
    updatedAt: now,
    updatedBy: done.by,
  }));
  r.risks.push(...added);
  await r.recordRisks('risk.identified', 'identified', added.map((risk) => ({ risk, change: `identified in ${r.assessmentId}` })), done.by);
  r.event('identified', done.by, `${added.length} new risk(s), ${existing.length - closed.length} confirmed, ${closed.length} closed`, done.workflowId);
  await r.recorder.append('risk-assessment.identified', done.by, { added: added.map((x) => x.riskId), confirmed: existing.filter((e) => e.decision === 'confirm').map((e) => e.riskId), closed }, 'identified');
}

/** 2. Analyse and evaluate (6.1.2 d, e): each open risk rated; its level from the matrix; below the treatment level it is retained. */
export async function analyse(r: RiskAssessment): Promise<void> {
  r.state = 'analyse';
  const risks = open(r);
  if (!risks.length) return;
  const done = await step(
    r,
    'analyse',
    'Analyse and evaluate the AI risks',
    `Rate each risk's likelihood (${r.criteria.likelihoodScale.join(', ')}) and its consequence for the organization, individuals and society (${r.criteria.consequenceScale.join(', ')}). Its level comes from the risk matrix; from ${r.criteria.treatmentFrom} a risk needs treatment.`,
    { assignee: { person: r.settings.assessor }, form: 'risk-analysis', choices: riskStepChoices(risks, scales(r)), dueMs: r.dueMs('analyse') },
  );
  const ratings = (done.data.ratings ?? []) as Array<{ riskId: string; likelihood: string; consequence: string }>;
  const versions = ratings.map((rating) => {
    const inherent = r.rate(rating);
    const retained = !needsTreatment(r.criteria, inherent.level);
    const base = { inherent, links: addLink(r.risk(rating.riskId), r.assessmentId) };
    const risk = retained
      ? r.update(rating.riskId, done.by, { ...base, state: 'accepted', residual: inherent, treatment: { option: 'retain', plan: [], decidedBy: done.by, decidedAt: new Date().toISOString(), assessmentId: r.assessmentId } })
      : r.update(rating.riskId, done.by, { ...base, state: 'assessed' });
    if (retained) r.update(risk.riskId, done.by, { reviewDueAt: r.reviewDueAt(risk) });
    return { risk: r.risk(rating.riskId), change: `${inherent.likelihood} × ${inherent.consequence} = ${inherent.level}${retained ? ` (below ${r.criteria.treatmentFrom}: retained)` : ''}` };
  });
  await r.recordRisks('risk.assessed', 'assessed', versions, done.by);
  r.event('analysed', done.by, versions.map((v) => `${v.risk.riskId} ${v.risk.inherent?.level}`).join(', '), done.workflowId);
  await r.recorder.append('risk-assessment.analysed', done.by, { ratings: versions.map((v) => ({ riskId: v.risk.riskId, inherent: v.risk.inherent, state: v.risk.state })) }, 'analysed');
}

const addLink = (risk: Risk, ref: string): Risk['links'] => (risk.links.some((l) => l.ref === ref) ? risk.links : [...risk.links, { kind: 'risk-assessment', ref }]);

/** 3. Treat (6.1.3): option, controls and residual rating per risk; every Annex A control compared; the plan. */
export async function treat(r: RiskAssessment, feedback: string): Promise<void> {
  r.state = 'treat';
  const risks = toTreat(r);
  const done = await step(
    r,
    `treat-${r.round}`,
    `Plan the treatment of the AI risks${r.round > 1 ? ` (round ${r.round})` : ''}`,
    `For each risk: choose an option (modify, avoid, share, retain), the controls (Annex A ids such as A.7.4, and others), and the likelihood and consequence that remain. Compare the controls against every Annex A control: covered, or not needed and why (6.1.3 c). List the treatment plan's actions with owners and due dates. Residual levels from ${r.criteria.topManagementAcceptanceFrom} are accepted by top management.${feedback}`,
    { assignee: { person: r.settings.assessor }, form: 'risk-treatment', choices: riskStepChoices(risks, scales(r), true), dueMs: r.dueMs('treat') },
  );
  r.preparedBy = done.by;
  r.annexA = (done.data.annexA ?? []) as ComparisonRow[];
  const plan = (done.data.plan ?? []) as TreatmentPlanRow[];
  const versions = ((done.data.treatments ?? []) as TreatmentRow[]).map((t) => {
    const residual = r.rate({ likelihood: t.residualLikelihood, consequence: t.residualConsequence });
    const risk = r.update(t.riskId, done.by, {
      state: 'treatment-planned',
      controls: t.controls.map((ref) => ({ ref, annexA: isAnnexAControl(ref) })),
      residual,
      treatment: { option: t.option, plan: plan.filter((p) => p.riskId === t.riskId).map(({ riskId: _, ...a }) => a), decidedBy: done.by, decidedAt: new Date().toISOString(), assessmentId: r.assessmentId },
    });
    delete risk.acceptance;
    return { risk, change: `${t.option}; controls ${t.controls.join(', ') || 'none'}; residual ${residual.level}` };
  });
  await r.recordRisks('risk.treatment-planned', `treated-${r.round}`, versions, done.by);
  r.event('treated', done.by, versions.map((v) => `${v.risk.riskId} ${v.risk.treatment?.option} → ${v.risk.residual?.level}`).join(', '), done.workflowId);
  await r.recorder.append('risk-assessment.treated', done.by, { round: r.round, treatments: versions.map((v) => ({ riskId: v.risk.riskId, treatment: v.risk.treatment, controls: v.risk.controls, residual: v.risk.residual })), annexA: r.annexA }, `treated-${r.round}`);
}

/** What the plan approval shows and binds by its hash. */
function planContent(r: RiskAssessment): Record<string, unknown> {
  return { assessmentId: r.assessmentId, round: r.round, risks: toTreat(r).map((x) => ({ riskId: x.riskId, title: x.title, owner: x.owner, inherent: x.inherent, residual: x.residual, controls: x.controls, treatment: x.treatment })), annexA: r.annexA };
}

function refused(decision: ApprovalResult, what: string): string | undefined {
  const outcome = approvalOutcome(decision);
  if (outcome.approved) return undefined;
  if (decision.status === 'cancelled') throw new StepCancelled('system', `the ${what} was cancelled`);
  return `\n\nThe ${what} was refused${outcome.rejectedBy ? ` by ${outcome.rejectedBy}` : ''}: ${outcome.reason}`;
}

/** 4. The risk owners approve the treatment plan (not whoever prepared it); returns the feedback when refused. */
export async function approvePlan(r: RiskAssessment): Promise<string | undefined> {
  r.state = 'plan-approval';
  const risks = toTreat(r);
  if (!risks.length) return undefined;
  const routing = treatmentPlanApproval({ owners: risks.map((x) => x.owner), preparedBy: r.preparedBy, aimsManager: r.settings.aimsManagerId });
  const contentHash = await acts.contentHash(planContent(r));
  const key = `plan-approval-${r.round}`;
  r.stepStarted(key, 'treatment plan sent to the risk owners for approval');
  const decision = await runApproval(
    key,
    {
      kind: 'risk-treatment-plan',
      title: `${r.scopeText()}: risk treatment plan ${r.assessmentId}`.slice(0, 200),
      summary: r.context().slice(0, 20000),
      contentHash,
      approvers: routing.approvers,
      rule: { type: 'all' },
      preparer: r.preparedBy === 'system' ? r.settings.aimsManagerId : r.preparedBy,
      conflicts: routing.conflicts,
      process: 'risk-assessment',
      clauses: r.clauses,
      dueAt: r.dueIn(r.dueMs('planApproval')),
      policy: r.spec.policy.tasks,
    },
    stepFailed(r, 'the plan approval'),
  );
  r.currentStep = undefined;
  const back = refused(decision, 'treatment plan');
  r.event(back ? 'plan-rejected' : 'plan-approved', approvalOutcome(decision).rejectedBy ?? approvalOutcome(decision).approvedBy.join(', '), back ? `plan refused: ${approvalOutcome(decision).reason}` : 'plan approved by the risk owners', decision.approvalId);
  await r.recorder.append('risk-assessment.plan-decided', 'system', { round: r.round, approvalId: decision.approvalId, status: decision.status, contentHash, decisions: decision.decisions }, key);
  return back;
}

/** What top management accepts for one risk: the risk as decided. */
export function acceptanceContent(r: RiskAssessment, risk: Risk): Record<string, unknown> {
  const { riskId, title, description, aiSystems, categories, owner, inherent, residual, controls, treatment } = risk;
  return { assessmentId: r.assessmentId, riskId, title, description, aiSystems, categories, owner, inherent, residual, controls, treatment };
}

/** 5. Top management accepts every residual risk at or above the criterion (never its owner nor its preparer); returns the feedback when one is refused. */
export async function acceptResiduals(r: RiskAssessment): Promise<string | undefined> {
  r.state = 'acceptance';
  const risks = toTreat(r).filter((x) => x.residual && needsTopManagementAcceptance(r.criteria, x.residual.level));
  r.publish();
  const decided = await Promise.all(
    risks.map(async (risk) => {
      const content = acceptanceContent(r, risk);
      const contentHash = await acts.contentHash(content);
      const key = `acceptance-${risk.riskId}-${r.round}`;
      r.event('step-started', 'system', `acceptance of ${risk.riskId}'s residual risk (${risk.residual?.level}) asked of top management`);
      const decision = await runApproval(
        key,
        {
          kind: 'risk-acceptance',
          title: `Accept residual risk ${risk.riskId} (${risk.residual?.level}): ${risk.title}`.slice(0, 200),
          summary: `${r.context()}\n\nYou are asked to accept the residual risk of ${risk.riskId} as decided: ${JSON.stringify(content, null, 1)}`.slice(0, 20000),
          contentHash,
          approvers: [{ role: 'top-management' }],
          rule: { type: 'any' },
          preparer: r.preparedBy === 'system' ? r.settings.aimsManagerId : r.preparedBy,
          conflicts: residualAcceptanceConflicts({ riskOwner: risk.owner, preparedBy: r.preparedBy }),
          process: 'risk-assessment',
          clauses: r.clauses,
          dueAt: r.dueIn(r.dueMs('acceptance')),
          policy: r.spec.policy.tasks,
        },
        stepFailed(r, `the acceptance of ${risk.riskId}`),
      );
      return { risk, decision, contentHash };
    }),
  );
  let back: string | undefined;
  for (const { risk, decision, contentHash } of decided) {
    const outcome = approvalOutcome(decision);
    const why = refused(decision, `acceptance of ${risk.riskId}`);
    if (why) {
      back = (back ?? '') + why;
      r.event('acceptance-refused', outcome.rejectedBy ?? 'system', `${risk.riskId}: ${outcome.reason}`, decision.approvalId);
      continue;
    }
    const by = outcome.approvedBy[0] ?? 'system';
    const accepted = r.update(risk.riskId, by, { state: 'accepted', acceptance: { by, at: decision.decidedAt, approvalId: decision.approvalId, contentHash, role: 'top-management' } });
    r.event('accepted', by, `${risk.riskId} residual ${risk.residual?.level} accepted by top management`, decision.approvalId);
    await r.recordRisks('risk.accepted', `accepted-${r.round}`, [{ risk: accepted, change: `residual ${risk.residual?.level} accepted by ${by} (approval ${decision.approvalId})` }], by);
  }
  return back;
}

/** 6. Each action of the plan as a task for its owner, in parallel (8.3). */
export async function carryOut(r: RiskAssessment): Promise<void> {
  r.state = 'treatment';
  r.publish();
  const actions = toTreat(r).flatMap((risk) => (risk.treatment?.plan ?? []).map((a, i) => ({ risk, a, i })));
  await Promise.all(
    actions.map(async ({ risk, a, i }) => {
      const key = `action-${r.round}-${risk.riskId}-${i + 1}`;
      const dueMs = Math.max(60_000, Date.parse(`${a.dueDate}T23:59:59Z`) - Date.now());
      const done = await runStep(
        key,
        r.taskInput(`${risk.riskId}: ${a.action}`.slice(0, 150), `Carry out this action of the treatment plan of ${risk.riskId} (${risk.title}) and attach the evidence.`, { assignee: { person: a.owner }, form: 'evidence', dueMs }),
        `action ${i + 1} of ${risk.riskId}`,
        stepFailed(r, `action ${i + 1} of ${risk.riskId}`),
      );
      const plan = (r.risk(risk.riskId).treatment?.plan ?? []).map((p, j) => (j === i ? { ...p, workflowId: done.workflowId, doneAt: new Date().toISOString(), evidence: ((done.data.links ?? []) as string[]).slice(0, 20) } : p));
      r.update(risk.riskId, done.by, { treatment: { ...r.risk(risk.riskId).treatment!, plan } });
      r.event('action-done', done.by, `${risk.riskId} action ${i + 1} done`, done.workflowId);
    }),
  );
}

/** 7. The AIMS manager verifies the treatment; returns the feedback for another round when it was not effective. */
export async function verify(r: RiskAssessment): Promise<string | undefined> {
  r.state = 'verification';
  const risks = toTreat(r);
  if (!risks.length) return undefined;
  const done = await step(r, `verification-${r.round}`, 'Verify the risk treatment', 'Check that the treatment plan was carried out and works: effective, or not effective with what is wrong in the note (the treatment is planned again).', {
    assignee: { person: r.settings.aimsManagerId },
    form: 'choice',
    choices: VERIFY_CHOICES,
    dueMs: r.dueMs('verification'),
  });
  const note = typeof done.data.note === 'string' ? done.data.note : '';
  await r.recorder.append('risk-assessment.verified', done.by, { round: r.round, result: done.data.choice, note }, `verified-${r.round}`);
  if (done.data.choice !== 'effective') {
    r.event('not-effective', done.by, `treatment not effective${note ? `: ${note}` : ''}`, done.workflowId);
    return `\n\nThe verification found the treatment not effective${note ? `: ${note}` : ''}.`;
  }
  const versions = risks.map((risk) => {
    const treated = r.update(risk.riskId, done.by, { state: risk.treatment?.plan.length ? 'treated' : risk.state === 'accepted' ? 'accepted' : 'treated' });
    return { risk: r.update(risk.riskId, done.by, { reviewDueAt: r.reviewDueAt(treated) }), change: `treatment verified effective by ${done.by}` };
  });
  await r.recordRisks('risk.treated', `verified-${r.round}`, versions, done.by);
  r.event('verified', done.by, 'treatment verified effective', done.workflowId);
  return undefined;
}

/** 8. The record (`risk-assessment.recorded`), then the SoA version that follows from the treatment. */
export async function record(r: RiskAssessment): Promise<void> {
  r.state = 'recorded';
  r.recordedAt = new Date().toISOString();
  const content = { assessmentId: r.assessmentId, scope: r.spec.scope, risks: r.risks, closed: r.closedRisks, annexA: r.annexA };
  r.contentHash = await acts.contentHash(content);
  const recorded = await r.recorder.append(
    'risk-assessment.recorded',
    'system',
    { trigger: r.spec.trigger, reason: r.spec.reason, rounds: r.round, risks: r.risks, closedRisks: r.closedRisks, annexA: r.annexA, contentHash: r.contentHash, timeline: r.recorder.timeline, recordedAt: r.recordedAt },
    'recorded',
  );
  r.recordId = recorded.id;
  const edits = soaEditsFromTreatment(toTreat(r), { verified: true, evidence: [recorded.id] });
  if (edits.length) {
    const soa = await acts.recordSoaChange({ id: `${r.recorder.base}/soa`, actor: 'system', changes: edits, reason: `treatment decided in risk assessment ${r.assessmentId}`, source: r.workflowId });
    r.soaVersion = soa.version;
  }
  r.event('recorded', 'system', `recorded in the ledger${r.soaVersion !== undefined ? `; SoA version ${r.soaVersion}` : ''}`);
}

/** A step cancelled on its own, or the assessment cancelled: the reason goes to the ledger. */
export async function closeCancelled(r: RiskAssessment, ending: Exclude<Ending<void>, { kind: 'done' }>): Promise<void> {
  r.cancelReason = ending.kind === 'step-cancelled' ? ending.reason : 'cancelled by its AI system workflow or an operator';
  r.state = 'cancelled';
  r.currentStep = undefined;
  r.event('cancelled', ending.kind === 'step-cancelled' ? ending.by : 'system', `cancelled: ${r.cancelReason}`);
  r.publish();
  await r.recorder.append('risk-assessment.cancelled', 'system', { reason: r.cancelReason, round: r.round, risks: r.risks.map((x) => ({ riskId: x.riskId, state: x.state })) }, 'cancelled');
}
