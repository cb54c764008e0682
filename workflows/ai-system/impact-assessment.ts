/**
 * One AI system impact assessment (ISO/IEC 42001 6.1.4, 8.4, Annex A.5), id
 * `impact-assessment/<systemId>/<year>-<n>`, started by the system's long-lived workflow:
 * the system owner scopes it (intended use, foreseeable misuse, deployment context,
 * jurisdictions, who is affected) and assesses the impacts on individuals or groups (A.5.4)
 * and on society (A.5.5) with severity, likelihood and mitigations; the AI governance role
 * reviews it (approve, or send back with comments, counted); top management signs it off when
 * the resulting level reaches the organization's threshold, the AIMS manager otherwise (an
 * approval bound to the content hash). The assessment goes to the ledger (A.5.3) and every
 * residual impact at or above the risk-treatment threshold opens a task for the owner.
 * Changes announced while it runs are attached to it.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  ParentClosePolicy,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { durationMs } from '../../src/common/duration.js';
import { impactScaleChoices, type ImpactRow } from '../../src/forms/index.js';
import {
  IMPACT_ASSESSMENT_CLAUSES,
  impactAreaText,
  impactAssessmentInputSchema,
  resultingLevel,
  scoreImpacts,
  signOffRole,
  type ImpactAssessmentEvent,
  type ImpactAssessmentInput,
  type ImpactAssessmentResult,
  type ImpactAssessmentState,
  type ImpactAssessmentStatus,
  type ImpactScope,
  type ScoredImpact,
} from '../../src/ai-system/impact-assessment.js';
import type { HumanTaskInput, HumanTaskResult } from '../../src/task/schema.js';
import { attachChangeSignal, impactAssessmentStatusQuery } from '../../src/ai-system/contract.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts } from '../lib/activities.js';
import { childWorkflowId, runApproval, runTask } from '../lib/children.js';
import { formatDay, parseOrThrow, StepCancelled } from '../lib/util.js';
import { ledgerWriter } from '../lib/ledger.js';

const stateText: Record<ImpactAssessmentState, string> = {
  scoping: 'scoping',
  assessment: 'assessing the impacts',
  review: 'review by AI governance',
  'sign-off': 'sign-off',
  recorded: 'recorded',
  cancelled: 'cancelled',
};

const REVIEW_CHOICES = ['approve', 'send back'];


export async function impactAssessment(rawInput: ImpactAssessmentInput): Promise<ImpactAssessmentResult> {
  const spec = parseOrThrow(impactAssessmentInputSchema, rawInput, 'impact assessment input');
  const info = workflowInfo();
  const workflowId = info.workflowId;
  const system = spec.system;
  const assessmentId = `${system.id}/${spec.assessmentRef}`;
  const clauses = IMPACT_ASSESSMENT_CLAUSES;

  let state: ImpactAssessmentState = 'scoping';
  let round = 0;
  let sendBacks = 0;
  let signOffRefusals = 0;
  let currentStep: ImpactAssessmentStatus['currentStep'];
  let scope: ImpactAssessmentStatus['scope'];
  let impacts: ScoredImpact[] = [];
  let assessedBy: string | undefined;
  let level: number | undefined;
  let signOff: ImpactAssessmentStatus['signOff'];
  let contentHash: string | undefined;
  let recordedAt: string | undefined;
  let cancellation: ImpactAssessmentStatus['cancellation'];
  const riskTreatments: ImpactAssessmentStatus['riskTreatments'] = [];
  const changes: ImpactAssessmentStatus['changes'] = spec.changes.map((c) => ({ ...c, attached: false }));
  const timeline: ImpactAssessmentEvent[] = [];

  const event = (type: ImpactAssessmentEvent['type'], by: string, detail: string, child?: string) =>
    timeline.push({ at: new Date().toISOString(), type, by, detail, ...(child ? { workflowId: child } : {}) });

  const status = (): ImpactAssessmentStatus => ({
    assessmentId,
    assessmentRef: spec.assessmentRef,
    workflowId,
    systemId: system.id,
    system,
    trigger: spec.trigger,
    state,
    ...(spec.dueAt ? { dueAt: spec.dueAt } : {}),
    round,
    sendBacks,
    signOffRefusals,
    ...(currentStep ? { currentStep } : {}),
    changes,
    ...(scope ? { scope } : {}),
    impacts,
    ...(assessedBy ? { assessedBy } : {}),
    ...(level !== undefined ? { level } : {}),
    ...(signOff ? { signOff } : {}),
    ...(contentHash ? { contentHash } : {}),
    riskTreatments,
    ...(recordedAt ? { recordedAt } : {}),
    ...(cancellation ? { cancellation } : {}),
    timeline,
  });

  const publish = () => {
    upsertSearchAttributes([
      { key: searchAttributes.process, value: 'impact-assessment' },
      { key: searchAttributes.aiSystem, value: system.id },
      { key: searchAttributes.ref, value: assessmentId },
      { key: searchAttributes.state, value: state },
      { key: searchAttributes.owner, value: system.owner },
      { key: searchAttributes.clauses, value: clauses },
      ...(spec.dueAt ? [{ key: searchAttributes.dueDate, value: new Date(spec.dueAt) }] : []),
    ]);
    upsertMemo({ kind: 'impact-assessment', assessmentId, systemId: system.id, title: system.name, state, ...(level !== undefined ? { level } : {}) });
    const attached = changes.filter((c) => c.attached).length;
    setCurrentDetails(
      [
        `**Impact assessment ${assessmentId}** · ${stateText[state]} · ${system.name} (${system.impactTier} tier) · owner ${system.owner}`,
        `trigger ${spec.trigger}${changes.length ? ` (${changes.length} change(s)${attached ? `, ${attached} attached while running` : ''})` : ''}`,
        ...(spec.dueAt ? [`due ${formatDay(Date.parse(spec.dueAt))}`] : []),
        ...(sendBacks ? [`sent back ${sendBacks}×`] : []),
        ...(level !== undefined ? [`level ${level}`] : []),
      ].join(' · '),
    );
  };

  const records = ledgerWriter({ clauses: clauses, identity: () => ({ assessmentId, assessmentRef: spec.assessmentRef, systemId: system.id }) });
  const ledger = records.append;

  setHandler(impactAssessmentStatusQuery, status);
  setHandler(attachChangeSignal, (change) => {
    if (state === 'recorded' || state === 'cancelled') return;
    changes.push({ ...change, attached: true });
    event('change-attached', change.by, `${change.type} change attached: ${change.why}`);
    publish();
  });

  event('started', 'system', `started (${spec.trigger})${changes.length ? ` after ${changes.length} significant change(s)` : ''}`);
  publish();
  const settings = await acts.impactAssessmentSettings();
  const p = spec.policy;
  const due = {
    scoping: p.scopingDue ? durationMs(p.scopingDue) : settings.stepDueMs.scoping,
    assessment: p.assessmentDue ? durationMs(p.assessmentDue) : settings.stepDueMs.assessment,
    review: p.reviewDue ? durationMs(p.reviewDue) : settings.stepDueMs.review,
    signOff: p.signOffDue ? durationMs(p.signOffDue) : settings.stepDueMs.signOff,
    riskTreatment: p.riskTreatmentDue ? durationMs(p.riskTreatmentDue) : settings.stepDueMs.riskTreatment,
  };
  const dueIn = (ms: number) => new Date(Date.now() + ms).toISOString();
  await ledger('impact-assessment.started', 'system', { trigger: spec.trigger, system, changes: spec.changes, dueAt: spec.dueAt ?? null }, 'started');

  const changeLines = () =>
    changes.length
      ? [`Significant changes:\n${changes.map((c) => `- ${c.type} (${c.by}, ${c.at.slice(0, 10)}${c.attached ? ', announced during this assessment' : ''}): ${c.why}`).join('\n')}`]
      : [];
  const scopeText = () =>
    scope
      ? [
          `Scope:\nIntended use: ${scope.intendedUse}\nForeseeable misuse: ${scope.foreseeableMisuse}\nDeployment context: ${scope.deploymentContext}\n` +
            `Jurisdictions: ${scope.jurisdictions.join(', ')}\nAffected individuals: ${scope.affectedIndividuals}\nAffected groups: ${scope.affectedGroups}\nSociety: ${scope.society}`,
        ]
      : [];
  const impactText = () =>
    impacts.length
      ? [
          `Impacts:\n${impacts
            .map(
              (i, n) =>
                `${n + 1}. On ${impactAreaText[i.area]}: ${i.description}\n   ${i.severity} × ${i.likelihood} = level ${i.level}; mitigation: ${i.mitigation}\n   after mitigation ${i.residualSeverity} × ${i.residualLikelihood} = level ${i.residualLevel}`,
            )
            .join('\n')}\nResulting level (highest residual): ${level ?? resultingLevel(impacts)}`,
        ]
      : [];
  const context = () =>
    [
      `AI system ${system.name} (${system.id}, ${system.impactTier} impact tier, ${system.lifecycle}): ${system.purpose}`,
      `Assessment ${assessmentId}, started ${spec.trigger === 'change' ? 'after a significant change' : spec.trigger === 'initial' ? 'as the first assessment' : 'as the planned reassessment'}.`,
      ...(spec.previous ? [`Previous assessment ${spec.previous.assessmentRef}: level ${spec.previous.level}, signed off ${spec.previous.signedOffAt.slice(0, 10)}.`] : []),
      ...changeLines(),
      ...scopeText(),
      ...impactText(),
    ].join('\n\n');

  const step = async (
    key: string,
    title: string,
    instructions: string,
    task: Pick<HumanTaskInput, 'assignee' | 'form' | 'choices'> & { dueMs: number },
  ): Promise<{ by: string; data: Record<string, unknown> }> => {
    const child = childWorkflowId(key);
    currentStep = { key, workflowId: child };
    event('step-started', 'system', title, child);
    publish();
    const result: HumanTaskResult = await runTask(key, {
      title: `${system.name}: ${title}`.slice(0, 200),
      instructions: `${instructions}\n\n${context()}`.slice(0, 10000),
      clauses,
      process: 'impact-assessment',
      aiSystem: system.id,
      assignee: task.assignee,
      dueAt: dueIn(task.dueMs),
      form: task.form ?? 'text',
      ...(task.choices ? { choices: task.choices } : {}),
      requestedBy: 'system',
      policy: p.tasks,
    });
    currentStep = undefined;
    if (result.status !== 'completed') {
      const c = result.cancellation;
      throw new StepCancelled(c?.by ?? 'system', `the step "${title}" was cancelled${c ? `: ${c.reason}` : ''}`);
    }
    return { by: result.completedBy ?? 'system', data: result.data ?? {} };
  };

  const lifecycle = async () => {
    // 1. Scoping by the system owner.
    const scoped = await step(
      'scoping',
      'Scope the impact assessment',
      'Describe the intended use, the reasonably foreseeable misuse, the deployment context, the jurisdictions and who is affected: individuals, groups and society.',
      { assignee: { person: system.owner }, form: 'impact-scoping', dueMs: due.scoping },
    );
    scope = { ...(scoped.data as unknown as ImpactScope), by: scoped.by };
    event('scoped', scoped.by, `scoped: ${scope.jurisdictions.join(', ')}`, childWorkflowId('scoping'));
    await ledger('impact-assessment.scoped', scoped.by, { scope }, 'scoped');

    let feedback = '';
    for (;;) {
      round += 1;
      // 2. The impacts, rated on the organization's scales, with mitigations.
      state = 'assessment';
      const assessed = await step(
        `assessment-${round}`,
        `Assess the impacts${round > 1 ? ` (round ${round})` : ''}`,
        `List the impacts on individuals or groups (A.5.4) and on society (A.5.5): for each, its severity (${settings.severityScale.join(', ')}) and likelihood (${settings.likelihoodScale.join(', ')}), the mitigation, and the severity and likelihood that remain after it.${feedback}`,
        { assignee: { person: system.owner }, form: 'impact-assessment', choices: impactScaleChoices(settings.severityScale, settings.likelihoodScale), dueMs: due.assessment },
      );
      impacts = scoreImpacts((assessed.data.impacts ?? []) as ImpactRow[], settings);
      level = resultingLevel(impacts);
      assessedBy = assessed.by;
      event('assessed', assessed.by, `${impacts.length} impact(s) assessed; resulting level ${level}`, childWorkflowId(`assessment-${round}`));
      await ledger('impact-assessment.assessed', assessed.by, { round, impacts, level, note: assessed.data.note ?? null }, `assessed-${round}`);

      // 3. Review by the AI governance role.
      state = 'review';
      const review = await step(
        `review-${round}`,
        `Review the impact assessment${round > 1 ? ` (round ${round})` : ''}`,
        'Review the scope and the impacts. Approve, or send it back with your comments in the note (the assessment is done again).',
        { assignee: { role: 'ai-governance' }, form: 'choice', choices: REVIEW_CHOICES, dueMs: due.review },
      );
      const comments = typeof review.data.note === 'string' ? review.data.note : '';
      await ledger('impact-assessment.reviewed', review.by, { round, decision: review.data.choice, comments }, `reviewed-${round}`);
      if (review.data.choice !== 'approve') {
        sendBacks += 1;
        event('sent-back', review.by, `sent back by the review${comments ? `: ${comments}` : ''}`, childWorkflowId(`review-${round}`));
        feedback = `\n\nThe review sent the previous assessment back${comments ? `: ${comments}` : ' without comments'}.`;
        continue;
      }
      event('approved-by-review', review.by, 'approved by the review', childWorkflowId(`review-${round}`));

      // 4. Sign-off, bound to the content hash.
      state = 'sign-off';
      const role = signOffRole(level, settings.signOffThreshold);
      const approvers =
        role === 'top-management' || assessed.by === settings.aimsManagerId ? [{ role: 'top-management' as const }] : [{ person: settings.aimsManagerId }];
      const signerRole = approvers[0] && 'role' in approvers[0] ? 'top-management' : 'aims-manager';
      const content = { assessmentId, system, trigger: spec.trigger, changes: changes.map(({ attached: _, ...c }) => c), scope, impacts, level };
      contentHash = await acts.contentHash(content);
      const key = `sign-off-${round}`;
      currentStep = { key, workflowId: childWorkflowId(key) };
      event('step-started', 'system', `sign-off requested from ${signerRole === 'top-management' ? 'top management' : 'the AIMS manager'} (level ${level}, threshold ${settings.signOffThreshold})`, childWorkflowId(key));
      publish();
      const decision = await runApproval(key, {
        kind: 'impact-assessment',
        title: `${system.name}: impact assessment ${spec.assessmentRef} (level ${level})`.slice(0, 200),
        summary: context().slice(0, 20000),
        contentHash,
        approvers,
        rule: { type: 'any' },
        preparer: assessed.by,
        process: 'impact-assessment',
        clauses,
        dueAt: dueIn(due.signOff),
        policy: p.tasks,
      });
      currentStep = undefined;
      if (decision.status === 'approved') {
        const approved = decision.decisions.find((d) => d.decision === 'approve' && !d.voided);
        signOff = { role: signerRole, by: approved?.by ?? 'system', at: decision.decidedAt, contentHash };
        event('signed-off', signOff.by, `signed off by ${signerRole === 'top-management' ? 'top management' : 'the AIMS manager'}`, childWorkflowId(key));
        return;
      }
      if (decision.status === 'cancelled') throw new StepCancelled('system', 'the sign-off was cancelled');
      signOffRefusals += 1;
      const why =
        decision.status === 'expired'
          ? 'nobody signed off before the approval expired'
          : decision.decisions.filter((d) => d.decision === 'reject' && d.comment).map((d) => d.comment).join('; ');
      event('sign-off-refused', decision.decisions.find((d) => d.decision === 'reject')?.by ?? 'system', `sign-off refused: ${why}`, childWorkflowId(key));
      feedback = `\n\nThe sign-off refused the previous assessment: ${why}`;
    }
  };

  const scope_ = new CancellationScope();
  try {
    await scope_.run(lifecycle);
  } catch (err) {
    if (err instanceof StepCancelled) {
      cancellation = { by: err.by, at: new Date().toISOString(), reason: err.reason };
    } else if (isCancellation(err)) {
      cancellation = { by: 'system', at: new Date().toISOString(), reason: 'cancelled by the AI system workflow (the system was retired) or an operator' };
    } else {
      throw err;
    }
  }

  return CancellationScope.nonCancellable(async () => {
    if (cancellation) {
      state = 'cancelled';
      currentStep = undefined;
      event('cancelled', cancellation.by, `cancelled: ${cancellation.reason}`);
      publish();
      await ledger('impact-assessment.cancelled', cancellation.by, { reason: cancellation.reason, round, sendBacks, changes, timeline }, 'cancelled');
      await condition(allHandlersFinished);
      return { assessmentId, assessmentRef: spec.assessmentRef, status: 'cancelled' as const, sendBacks, riskTreatments: [], cancellation };
    }

    // 5. The record (A.5.3), then a risk-treatment task per high residual impact.
    const signed = signOff!;
    recordedAt = new Date().toISOString();
    const high = impacts.map((impact, i) => ({ impact, i })).filter(({ impact }) => impact.residualLevel >= settings.riskTreatmentThreshold);
    for (const { impact, i } of high) riskTreatments.push({ workflowId: childWorkflowId(`risk-treatment-${i + 1}`), impact: i + 1, residualLevel: impact.residualLevel });
    state = 'recorded';
    const finalLevel = level ?? 0;
    await ledger(
      'impact-assessment.recorded',
      signed.by,
      {
        system,
        trigger: spec.trigger,
        changes,
        scope,
        impacts,
        level: finalLevel,
        assessedBy,
        signOff: signed,
        contentHash: signed.contentHash,
        sendBacks,
        signOffRefusals,
        riskTreatmentThreshold: settings.riskTreatmentThreshold,
        signOffThreshold: settings.signOffThreshold,
        riskTreatments,
        recordedAt,
      },
      'recorded',
    );
    event('recorded', 'system', `recorded in the ledger (level ${finalLevel})`);
    for (const { impact, i } of high) {
      const key = `risk-treatment-${i + 1}`;
      const input: HumanTaskInput = {
        title: `${system.name}: treat the residual impact ${i + 1} (level ${impact.residualLevel})`.slice(0, 200),
        instructions: [
          `The impact assessment ${assessmentId} found an impact whose residual level ${impact.residualLevel} is at or above the risk-treatment threshold ${settings.riskTreatmentThreshold}.`,
          `On ${impactAreaText[impact.area]}: ${impact.description}`,
          `Mitigation so far: ${impact.mitigation}`,
          `After mitigation: ${impact.residualSeverity} × ${impact.residualLikelihood}.`,
          'Treat the risk (6.1.3, 8.3): reduce it further or have the residual risk accepted, and attach the evidence.',
        ].join('\n\n'),
        clauses: ['6.1.3', '8.3', impact.area === 'society' ? 'A.5.5' : 'A.5.4'],
        process: 'impact-assessment',
        aiSystem: system.id,
        assignee: { person: system.owner },
        dueAt: dueIn(due.riskTreatment),
        form: 'evidence',
        requestedBy: 'system',
        policy: p.tasks,
      };
      try {
        await startChild<(input: HumanTaskInput) => Promise<HumanTaskResult>>('humanTask', {
          workflowId: childWorkflowId(key),
          args: [input],
          // The treatment outlives the assessment.
          parentClosePolicy: ParentClosePolicy.ABANDON,
          staticSummary: input.title,
          typedSearchAttributes: [{ key: searchAttributes.process, value: 'impact-assessment' }],
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      event('risk-treatment-opened', 'system', `risk-treatment task for impact ${i + 1} (residual level ${impact.residualLevel})`, childWorkflowId(key));
    }
    publish();
    await condition(allHandlersFinished);
    return {
      assessmentId,
      assessmentRef: spec.assessmentRef,
      status: 'recorded' as const,
      level: finalLevel,
      signOffRole: signed.role,
      signedOffBy: signed.by,
      signedOffAt: signed.at,
      recordedAt,
      sendBacks,
      riskTreatments: riskTreatments.map((r) => r.workflowId),
    };
  });
}
