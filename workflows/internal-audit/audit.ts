/**
 * Internal audit (ISO/IEC 42001 9.2): one workflow per audit of a programme. The lead auditor
 * and the auditee get a calendar invitation for the window; the auditor plans the audit, the
 * auditee acknowledges the plan, the auditor does the fieldwork and records the findings; the
 * report is approved (AIMS manager, or top management when the AIMS manager leads the audit),
 * each nonconformity starts a corrective action that outlives the audit, the report is e-mailed
 * to the relevant managers and the audit record goes to the ledger. The programme moves the
 * window or changes the auditor through a signal; cancelling the workflow cancels the audit.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AuditFindingRow, FormKey } from '../../src/forms/index.js';
import {
  countFindings,
  INTERNAL_AUDIT_REPORTED,
  internalAuditInputSchema,
  windowEndMs,
  windowStartMs,
  windowText,
  type AuditChange,
  type AuditFinding,
  type AuditReportedContent,
  type AuditState,
  type AuditStatus,
  type AuditWindow,
  type FindingCounts,
  type InternalAuditInput,
  type InternalAuditResult,
} from '../../src/internal-audit/schema.js';
import { durationMs } from '../../src/common/duration.js';
import type { PersonRef } from '../../src/common/schemas.js';
import { auditChangeSignal, auditProgressSignal, auditStatusQuery } from '../../src/internal-audit/contract.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts, notify } from '../lib/activities.js';
import { childWorkflowId, raiseNonconformity, runApproval, runTask } from '../lib/children.js';
import { formatDay, parseOrThrow, StepCancelled } from '../lib/util.js';
import { ledgerWriter } from '../lib/ledger.js';

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

export function findingsText(c: FindingCounts): string {
  const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
  return [
    n(c.majorNc, 'major NC', 'major NCs'),
    n(c.minorNc, 'minor NC', 'minor NCs'),
    n(c.observation, 'observation', 'observations'),
    n(c.opportunity, 'opportunity for improvement', 'opportunities for improvement'),
  ].join(', ');
}


export async function internalAudit(rawInput: InternalAuditInput): Promise<InternalAuditResult> {
  const spec = parseOrThrow(internalAuditInputSchema, rawInput, 'internal audit input');
  const info = workflowInfo();
  const workflowId = info.workflowId;
  const audit = spec.audit;
  const clauses = [...new Set(['9.2', ...audit.scope.clauses, ...audit.scope.controls])];
  const objectives = audit.objectives ?? `Determine whether the audited part of the AI management system conforms to ISO/IEC 42001 and the organization's own requirements, and is effectively implemented and maintained.`;
  const criteria = audit.criteria ?? `ISO/IEC 42001:2023 clauses and Annex A controls in scope; the organization's AI policy, procedures and the Statement of Applicability.`;

  let state: AuditState = 'invited';
  let window: AuditWindow = audit.window;
  let leadAuditor = audit.leadAuditor;
  let inviteSequence = 0;
  let currentStep: AuditStatus['currentStep'];
  let plan: Record<string, unknown> | undefined;
  let fieldwork: Record<string, unknown> | undefined;
  let findings: AuditFinding[] = [];
  const ncIds: string[] = [];
  let reportedAt: string | undefined;
  let cancellation: AuditStatus['cancellation'];
  let aimsManagerId: string | undefined = undefined;
  const timeline: AuditStatus['timeline'] = [];
  const pendingChanges: AuditChange[] = [];
  let auditorScope: CancellationScope | undefined;
  let auditorChanges = 0;

  const event = (type: string, by: string, detail: string) => timeline.push({ at: new Date().toISOString(), type, by, detail });

  const status = (): AuditStatus => ({
    year: spec.year,
    auditId: audit.auditId,
    workflowId,
    programmeWorkflowId: spec.programmeWorkflowId,
    title: audit.title,
    scope: audit.scope,
    window,
    leadAuditor,
    auditee: audit.auditee,
    state,
    inviteSequence,
    ...(currentStep ? { currentStep } : {}),
    ...(plan ? { plan } : {}),
    ...(fieldwork ? { fieldwork } : {}),
    findings,
    ncIds,
    ...(reportedAt ? { reportedAt } : {}),
    ...(cancellation ? { cancellation } : {}),
    timeline,
  });

  const publish = () => {
    upsertSearchAttributes([
      { key: searchAttributes.process, value: 'internal-audit' },
      { key: searchAttributes.ref, value: `IA-${spec.year}-${audit.auditId}` },
      { key: searchAttributes.owner, value: leadAuditor },
      { key: searchAttributes.state, value: state },
      { key: searchAttributes.dueDate, value: new Date(windowEndMs(window)) },
      { key: searchAttributes.clauses, value: clauses },
      ...(audit.scope.aiSystems[0] ? [{ key: searchAttributes.aiSystem, value: audit.scope.aiSystems[0] }] : []),
    ]);
    upsertMemo({ kind: 'internal-audit', auditId: audit.auditId, year: spec.year, title: audit.title, state });
    setCurrentDetails(
      `**${audit.auditId}** (${spec.year}) · ${stateText[state]} · ${audit.title} · auditor ${leadAuditor} · auditee ${audit.auditee} · window ${windowText(window)}${ncIds.length ? ` · ${ncIds.length} NC(s) raised` : ''}`,
    );
  };

  /** Tells the programme how far the audit is (when started by one). */
  const progress = async (extra: { findings?: FindingCounts; ncIds?: string[] } = {}) => {
    if (!info.parent) return;
    try {
      await getExternalWorkflowHandle(info.parent.workflowId, info.parent.runId).signal(auditProgressSignal, {
        auditId: audit.auditId,
        state,
        at: new Date().toISOString(),
        ...extra,
      });
    } catch (err) {
      // A programme that has already closed no longer tracks its audits.
      if (isCancellation(err)) throw err;
    }
  };

  const setState = async (next: AuditState) => {
    state = next;
    publish();
    await progress();
  };

  const records = ledgerWriter({ clauses: clauses, identity: () => ({ year: spec.year, auditId: audit.auditId }) });
  const ledger = records.append;

  /** The invitation for the window; the same UID throughout, a higher sequence on every change. */
  const invite = async (change: 'scheduled' | 'rescheduled' | 'auditor-changed' | 'cancelled', to: string[]) => {
    // Resolved apart: the directory drops repeated people from one look-up.
    const [auditor, auditee] = (await acts.resolvePeople([{ person: leadAuditor }, { person: audit.auditee }])) as [PersonRef, PersonRef];
    const [organizer] = (await acts.resolvePeople([{ person: aimsManagerId ?? leadAuditor }])) as [PersonRef];
    const recipients = await acts.resolvePeople(to.map((person) => ({ person })));
    const sequence = inviteSequence;
    inviteSequence += 1;
    await notify({
      notificationId: `${workflowId}/${info.firstExecutionRunId}/invite-${sequence}`,
      kind: 'internal-audit.invitation',
      to: recipients,
      data: {
        title: `${audit.auditId}: ${audit.title}`,
        clauses,
        windowText: windowText(window),
        change,
        auditorName: auditor.name,
        auditeeName: auditee.name,
        instructions: `Objectives: ${objectives}\n\nCriteria: ${criteria}\n\nScope: ${scopeText()}`,
      },
      invite: {
        uid: `${workflowId}@aimsflow`,
        title: `Internal audit ${audit.auditId}: ${audit.title}`,
        description: `Lead auditor: ${auditor.name}. Auditee: ${auditee.name}.\n\nScope: ${scopeText()}`,
        start: window.start,
        end: window.end,
        sequence,
        cancelled: change === 'cancelled',
        organizer,
      },
    });
  };

  const scopeText = () =>
    [
      audit.scope.clauses.length ? `clauses ${audit.scope.clauses.join(', ')}` : '',
      audit.scope.controls.length ? `controls ${audit.scope.controls.join(', ')}` : '',
      audit.scope.processes.length ? `processes ${audit.scope.processes.join(', ')}` : '',
      audit.scope.aiSystems.length ? `AI systems ${audit.scope.aiSystems.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; ');

  setHandler(auditStatusQuery, status);
  setHandler(auditChangeSignal, (change) => {
    if (state === 'reported' || state === 'cancelled') return;
    pendingChanges.push(change);
  });

  publish();
  const settings = await acts.internalAuditSettings();
  aimsManagerId = settings.aimsManagerId;
  const stepDueMs = spec.policy.stepDue ? durationMs(spec.policy.stepDue) : settings.stepDueMs;
  const approvalDueMs = spec.policy.approvalDue ? durationMs(spec.policy.approvalDue) : settings.approvalDueMs;
  const dueBy = (targetMs: number) => new Date(Math.max(targetMs, Date.now() + stepDueMs)).toISOString();

  /** Applies the changes the programme sent: a moved window or another auditor. */
  const applyChanges = async () => {
    while (pendingChanges.length) {
      const change = pendingChanges.shift()!;
      if (change.type === 'reschedule') {
        window = change.window;
        event('rescheduled', change.by, `window moved to ${windowText(window)}: ${change.reason}`);
        publish();
        await invite('rescheduled', [leadAuditor, audit.auditee]);
      } else if (change.leadAuditor !== leadAuditor) {
        const previous = leadAuditor;
        // The previous auditor's calendar entry is withdrawn, then the new auditor is invited.
        await invite('cancelled', [previous]);
        leadAuditor = change.leadAuditor;
        event('auditor-changed', change.by, `lead auditor ${previous} → ${leadAuditor}: ${change.reason}`);
        publish();
        auditorChanges += 1;
        auditorScope?.cancel();
        await invite('auditor-changed', [leadAuditor, audit.auditee]);
      }
    }
  };

  const context = () =>
    [
      `Internal audit ${audit.auditId} (${spec.year}): ${audit.title}`,
      `Window: ${windowText(window)}. Lead auditor: ${leadAuditor}. Auditee: ${audit.auditee}.`,
      `Scope: ${scopeText()}`,
      `Objectives: ${objectives}`,
      `Criteria: ${criteria}`,
    ].join('\n\n');

  /** One step as a human task; an auditor step is restarted for the new auditor when the auditor changes. */
  const step = async (
    key: string,
    title: string,
    instructions: string,
    form: FormKey,
    opts: { who: 'auditor' | 'auditee'; dueAt: () => string; choices?: string[]; recordKind: string },
  ): Promise<{ by: string; data: Record<string, unknown> }> => {
    for (let attempt = 1; ; attempt += 1) {
      const taskKey = attempt === 1 ? key : `${key}-${attempt}`;
      const child = childWorkflowId(taskKey);
      currentStep = { key: taskKey, workflowId: child };
      event('step-started', 'system', title);
      publish();
      const scope = new CancellationScope();
      if (opts.who === 'auditor') auditorScope = scope;
      const changesBefore = auditorChanges;
      let result;
      try {
        result = await scope.run(async () => {
          const r = await runTask(taskKey, {
            title: `${audit.auditId}: ${title}`,
            instructions: `${instructions}\n\n${context()}`,
            clauses,
            process: 'internal-audit',
            ...(audit.scope.aiSystems[0] ? { aiSystem: audit.scope.aiSystems[0] } : {}),
            assignee: { person: opts.who === 'auditor' ? leadAuditor : audit.auditee },
            dueAt: opts.dueAt(),
            form,
            ...(opts.choices ? { choices: opts.choices } : {}),
            requestedBy: 'system',
            policy: spec.policy.tasks,
          });
          if (r.status !== 'completed') throw new StepCancelled(r.cancellation?.by ?? 'system', `the step "${title}" was cancelled${r.cancellation ? `: ${r.cancellation.reason}` : ''}`);
          return r;
        });
      } catch (err) {
        auditorScope = undefined;
        // Cancelled for a new auditor: run the step again for them.
        if (opts.who === 'auditor' && auditorChanges !== changesBefore && (isCancellation(err) || err instanceof StepCancelled) && !CancellationScope.current().consideredCancelled) {
          event('step-restarted', 'system', `${title}: restarted for the new lead auditor ${leadAuditor}`);
          continue;
        }
        throw err;
      }
      auditorScope = undefined;
      currentStep = undefined;
      const by = result.completedBy ?? 'system';
      const data = result.data ?? {};
      event('step-completed', by, title);
      await ledger(opts.recordKind, by, { step: taskKey, title, workflowId: child, data }, taskKey);
      return { by, data };
    }
  };

  // Changes are applied between and during steps.
  const watchChanges = async () => {
    for (;;) {
      await condition(() => pendingChanges.length > 0);
      await applyChanges();
    }
  };

  const lifecycle = async () => {
    await invite('scheduled', [leadAuditor, audit.auditee]);
    await setState('planning');
    plan = (
      await step(
        'audit-plan',
        'Prepare the audit plan',
        'Write the audit plan: objectives, criteria and scope (as below, refined if needed), the schedule of the fieldwork, whom you will interview and which records you will sample.',
        'text',
        { who: 'auditor', dueAt: () => dueBy(windowStartMs(window)), recordKind: 'internal-audit.plan' },
      )
    ).data;
    await setState('acknowledgement');
    await step(
      'acknowledge',
      'Acknowledge the audit plan',
      `The lead auditor sent the audit plan below. Acknowledge it, and note any constraint (people away, systems unavailable).\n\nAudit plan:\n${typeof plan.text === 'string' ? plan.text : ''}`,
      'choice',
      {
        who: 'auditee',
        dueAt: () => dueBy(windowStartMs(window)),
        choices: ['Acknowledged', 'Acknowledged, with constraints in the note'],
        recordKind: 'internal-audit.acknowledged',
      },
    );
    await setState('fieldwork');
    fieldwork = (
      await step(
        'fieldwork',
        'Carry out the fieldwork',
        'Carry out the audit as planned: interviews, observation, record sampling. Summarize what was examined and link the working papers.',
        'evidence',
        { who: 'auditor', dueAt: () => dueBy(windowEndMs(window)), recordKind: 'internal-audit.fieldwork' },
      )
    ).data;

    let feedback = '';
    for (let round = 1; ; round += 1) {
      await setState('findings');
      const recorded = await step(
        `findings-${round}`,
        'Record the findings',
        `Record each finding: major nonconformity, minor nonconformity, observation or opportunity for improvement, with the clauses or controls concerned, the evidence and a statement. For a nonconformity, name who owns the corrective action (default: the auditee).${feedback}`,
        'audit-findings',
        { who: 'auditor', dueAt: () => new Date(Date.now() + stepDueMs).toISOString(), recordKind: 'internal-audit.findings' },
      );
      const rows = (recorded.data.findings ?? []) as AuditFindingRow[];
      const owners = [...new Set(rows.filter((r) => r.type === 'major-nc' || r.type === 'minor-nc').map((r) => r.owner ?? audit.auditee))];
      try {
        await acts.resolvePeople(owners.map((person) => ({ person })));
      } catch (err) {
        if (isCancellation(err)) throw err;
        feedback = `\n\nThe previous findings could not be used: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}.`;
        continue;
      }
      findings = rows.map((r, i) => ({
        findingId: `${audit.auditId}-F${i + 1}`,
        type: r.type,
        refs: r.refs,
        statement: r.statement,
        evidence: r.evidence,
        ...(r.type === 'major-nc' || r.type === 'minor-nc' ? { owner: r.owner ?? audit.auditee } : {}),
      }));
      const counts = countFindings(findings);
      await setState('report-approval');
      const content = { auditId: audit.auditId, year: spec.year, scope: audit.scope, window, leadAuditor, findings, note: recorded.data.note ?? null };
      const contentHash = await acts.contentHash(content);
      const key = `report-approval-${round}`;
      currentStep = { key, workflowId: childWorkflowId(key) };
      publish();
      const approvers = [leadAuditor, recorded.by].includes(settings.aimsManagerId) ? [{ role: 'top-management' as const }] : [{ person: settings.aimsManagerId }];
      const decision = await runApproval(key, {
        kind: 'internal-audit-report',
        title: `${audit.auditId}: internal audit report (${audit.title})`,
        summary: `${context()}\n\nFindings: ${findingsText(counts)}\n\n${findings
          .map((f) => `${f.findingId} (${f.type}, ${f.refs.join(', ')}): ${f.statement}\nEvidence: ${f.evidence}`)
          .join('\n\n')}${typeof recorded.data.note === 'string' ? `\n\nNote: ${recorded.data.note}` : ''}`,
        contentHash,
        approvers,
        rule: { type: 'any' },
        preparer: recorded.by,
        process: 'internal-audit',
        clauses,
        dueAt: new Date(Date.now() + approvalDueMs).toISOString(),
        policy: spec.policy.tasks,
      });
      currentStep = undefined;
      if (decision.status === 'approved') {
        const by = decision.decisions.filter((d) => d.decision === 'approve').map((d) => d.by);
        event('report-approved', by.join(', ') || 'system', 'report approved');
        return { counts, approvedBy: by, note: recorded.data.note };
      }
      if (decision.status === 'cancelled') throw new Error('the approval of the audit report was cancelled');
      const comments = decision.decisions.filter((d) => d.decision === 'reject' && d.comment).map((d) => d.comment);
      const why = decision.status === 'expired' ? 'nobody decided before the approval expired' : comments.join('; ') || 'no comment';
      event('report-rejected', decision.decisions.find((d) => d.decision === 'reject')?.by ?? 'system', `report sent back: ${why}`);
      feedback = `\n\nThe previous report was sent back: ${why}`;
    }
  };

  const changeScope = new CancellationScope();
  let changeFailure: Error | undefined;
  const changes = changeScope.run(watchChanges).catch((err: unknown) => {
    if (!isCancellation(err)) changeFailure = err instanceof Error ? err : new Error(String(err));
  });
  let outcome: { counts: FindingCounts; approvedBy: string[]; note: unknown } | undefined;
  let cancelledBy: Error | undefined;
  let stepCancelled: string | undefined;
  try {
    outcome = await lifecycle();
  } catch (err) {
    if (err instanceof StepCancelled) stepCancelled = err.message;
    else if (isCancellation(err)) cancelledBy = err as Error;
    else throw err;
  }
  changeScope.cancel();
  await CancellationScope.nonCancellable(async () => {
    await changes;
    if (changeFailure) throw changeFailure;
    if (!outcome) {
      state = 'cancelled';
      currentStep = undefined;
      cancellation = { by: 'system', at: new Date().toISOString(), reason: stepCancelled ?? 'the audit was cancelled by its programme or an operator' };
      event('cancelled', 'system', cancellation.reason);
      publish();
      await invite('cancelled', [leadAuditor, audit.auditee]);
      await ledger('internal-audit.cancelled', 'system', { reason: cancellation.reason, timeline }, 'cancelled');
      await progress();
      return;
    }
    // Nonconformities: each becomes a corrective action that outlives this audit.
    for (const f of findings) {
      if (f.type !== 'major-nc' && f.type !== 'minor-nc') continue;
      const nc = await raiseNonconformity(`nc-${f.findingId}`, {
        title: `${f.findingId}: ${f.statement.length > 150 ? `${f.statement.slice(0, 147)}...` : f.statement}`,
        description: `${f.statement}\n\nEvidence: ${f.evidence}\n\nRaised by internal audit ${audit.auditId} (${spec.year}): ${audit.title}, lead auditor ${leadAuditor}.`,
        severity: f.type === 'major-nc' ? 'major' : 'minor',
        source: 'internal-audit',
        sourceRef: f.findingId,
        clauses: f.refs,
        ...(audit.scope.aiSystems.length === 1 ? { aiSystem: audit.scope.aiSystems[0] } : {}),
        owner: f.owner ?? audit.auditee,
        raisedBy: leadAuditor,
      });
      f.ncId = nc.ncId;
      ncIds.push(nc.ncId);
      event('nc-raised', 'system', `${nc.ncId} raised for ${f.findingId}`);
    }
    state = 'reported';
    reportedAt = new Date().toISOString();
    publish();
    const recipients = await acts.internalAuditReportRecipients({ auditee: audit.auditee, scope: audit.scope });
    const [auditor] = await acts.resolvePeople([{ person: leadAuditor }]);
    await notify({
      notificationId: `${workflowId}/${info.firstExecutionRunId}/report`,
      kind: 'internal-audit.report',
      to: recipients,
      data: {
        title: `${audit.auditId}: ${audit.title}`,
        clauses,
        windowText: windowText(window),
        auditorName: auditor?.name ?? leadAuditor,
        findingsText: findingsText(outcome.counts),
        instructions: findings.length
          ? findings
              .map((f) => `${f.findingId} · ${f.type} · ${f.refs.join(', ')}${f.ncId ? ` · ${f.ncId} (owner ${f.owner})` : ''}\n${f.statement}\nEvidence: ${f.evidence}`)
              .join('\n\n')
          : `No findings. ${typeof outcome.note === 'string' ? outcome.note : ''}`,
      },
    });
    const content: AuditReportedContent = {
      year: spec.year,
      auditId: audit.auditId,
      workflowId,
      programmeWorkflowId: spec.programmeWorkflowId,
      title: audit.title,
      objectives,
      criteria,
      scope: audit.scope,
      window,
      leadAuditor,
      auditee: audit.auditee,
      reportedAt,
      approvedBy: outcome.approvedBy,
      findings,
      findingCounts: outcome.counts,
      ncIds,
      distributedTo: recipients.map((p) => p.id),
    };
    await ledger(INTERNAL_AUDIT_REPORTED, leadAuditor, content as unknown as Record<string, unknown>, 'reported');
    event('reported', 'system', `reported on ${formatDay(Date.parse(reportedAt))}: ${findingsText(outcome.counts)}`);
    await progress({ findings: outcome.counts, ncIds });
    await condition(allHandlersFinished);
  });
  if (cancelledBy) throw cancelledBy;
  return {
    auditId: audit.auditId,
    status: outcome ? 'reported' : 'cancelled',
    findings,
    ncIds,
    ...(reportedAt ? { reportedAt } : {}),
    ...(cancellation ? { cancellation } : {}),
  };
}
