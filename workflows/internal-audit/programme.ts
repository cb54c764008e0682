/**
 * Internal audit programme (ISO/IEC 42001 9.2.2): one workflow per year. The plan (given at
 * start, or asked of the AIMS manager and submitted through an update) is validated
 * (impartiality, windows inside the year, coverage of the AIMS scope over the audit cycle) and
 * approved; then each audit runs as a child workflow. The programme reminds lead auditors before
 * each window, escalates audits not started by the end of their window, accepts changes during
 * the year (reschedule, change auditor, add, cancel) and, at the end of the year, writes the
 * programme report to the ledger: coverage achieved, findings by type, the NCs raised and their
 * state.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  log,
  ParentClosePolicy,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { durationMs } from '../../src/common/duration.js';
import {
  addAuditSchema,
  addCounts,
  cancelAuditSchema,
  changeAuditorSchema,
  closeYearSchema,
  describeIssues,
  INTERNAL_AUDIT_PROGRAMME_REPORT,
  internalAuditProgrammeInputSchema,
  rescheduleAuditSchema,
  submitPlanSchema,
  windowEndMs,
  windowStartMs,
  windowText,
  zeroCounts,
  type AuditChange,
  type AuditState,
  type CoverageResult,
  type InternalAuditInput,
  type InternalAuditProgrammeInput,
  type InternalAuditResult,
  type PlanIssue,
  type PlannedAudit,
  type ProgrammeReportContent,
  type ProgrammeResult,
  type ProgrammeState,
  type ProgrammeStatus,
  type TrackedAudit,
  type TrackedAuditState,
} from '../../src/internal-audit/schema.js';
import type { PersonRef } from '../../src/common/schemas.js';
import {
  addAuditUpdate,
  auditChangeSignal,
  auditProgressSignal,
  cancelAuditUpdate,
  changeAuditorUpdate,
  closeYearUpdate,
  internalAuditWorkflowId,
  programmeKey,
  programmeStatusQuery,
  rescheduleAuditUpdate,
  submitPlanUpdate,
} from '../../src/internal-audit/contract.js';
import type { UpdateAck } from '../../src/common/messages.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts, notify } from '../lib/activities.js';
import { childWorkflowId, runApproval, runTask } from '../lib/children.js';
import { formatDay, invalidInput, parseOrThrow, reject } from '../lib/util.js';
import { guardedUpdate } from '../lib/handlers.js';
import { ledgerWriter } from '../lib/ledger.js';

const stateText: Record<ProgrammeState, string> = {
  planning: 'waiting for the plan',
  validating: 'checking the plan',
  approval: 'plan awaiting approval',
  running: 'audits under way',
  reporting: 'writing the year-end report',
  closed: 'closed',
  cancelled: 'cancelled',
};

const startedSteps: readonly (AuditState | 'not-started')[] = ['fieldwork', 'findings', 'report-approval', 'reported'];

export async function internalAuditProgramme(rawInput: InternalAuditProgrammeInput): Promise<ProgrammeResult> {
  const spec = parseOrThrow(internalAuditProgrammeInputSchema, rawInput, 'internal audit programme input');
  const info = workflowInfo();
  const workflowId = info.workflowId;
  const year = spec.year;
  const key = programmeKey(workflowId, year);
  const yearEndAtMs = spec.policy.yearEndAt ? Date.parse(spec.policy.yearEndAt) : Date.UTC(year + 1, 0, 1);
  const clauses = ['9.2'];

  let state: ProgrammeState = spec.audits ? 'validating' : 'planning';
  let aimsManagerId: string | undefined = undefined;
  let planTask: ProgrammeStatus['planTask'];
  let approval: ProgrammeStatus['approval'];
  let approvedAt: string | undefined;
  let lastRejection: string | undefined;
  let warnings: PlanIssue[] = [];
  let coverage: CoverageResult | undefined;
  let reportedAt: string | undefined = undefined;
  let pendingPlan: { audits: PlannedAudit[]; by: string; warnings: PlanIssue[]; coverage: CoverageResult } | undefined;
  let busy = false;
  let closeYearNow: { by: string; reason: string } | undefined = undefined;
  let notificationSeq = 0;
  const audits: TrackedAudit[] = [];
  const timeline: ProgrammeStatus['timeline'] = [];
  const scopes = new Map<string, CancellationScope>();
  const handles = new Map<string, ChildWorkflowHandle<(input: InternalAuditInput) => Promise<InternalAuditResult>>>();
  const generation = new Map<string, number>();
  const running: Promise<void>[] = [];

  const event = (type: string, by: string, detail: string) => timeline.push({ at: new Date().toISOString(), type, by, detail });
  const find = (auditId: string) => audits.find((a) => a.auditId === auditId);
  const closedAudit = (a: TrackedAudit) => a.state === 'reported' || a.state === 'cancelled';
  const started = (a: TrackedAudit) => startedSteps.includes(a.step);
  const trackedState = (a: TrackedAudit): TrackedAuditState => {
    if (a.cancellation) return 'cancelled';
    if (a.step === 'reported') return 'reported';
    if (started(a)) return 'in-progress';
    return a.escalated ? 'overdue' : 'planned';
  };

  const status = (): ProgrammeStatus => ({
    year,
    workflowId,
    state,
    trigger: spec.trigger,
    requestedBy: spec.requestedBy,
    ...(aimsManagerId ? { aimsManager: aimsManagerId } : {}),
    ...(planTask ? { planTask } : {}),
    ...(approval ? { approval } : {}),
    ...(approvedAt ? { approvedAt } : {}),
    audits,
    warnings,
    ...(lastRejection ? { lastRejection } : {}),
    ...(coverage ? { coverage } : {}),
    yearEndAt: new Date(yearEndAtMs).toISOString(),
    ...(reportedAt ? { reportedAt } : {}),
    timeline,
  });

  const publish = () => {
    for (const a of audits) a.state = trackedState(a);
    const count = (s: TrackedAuditState) => audits.filter((a) => a.state === s).length;
    const overdue = count('overdue');
    upsertSearchAttributes([
      { key: searchAttributes.process, value: 'internal-audit-programme' },
      { key: searchAttributes.ref, value: `IAP-${year}` },
      { key: searchAttributes.state, value: overdue && state === 'running' ? 'overdue' : state },
      { key: searchAttributes.dueDate, value: new Date(yearEndAtMs) },
      { key: searchAttributes.clauses, value: clauses },
      { key: searchAttributes.source, value: spec.trigger },
      ...(aimsManagerId ? [{ key: searchAttributes.owner, value: aimsManagerId }] : []),
      { key: searchAttributes.assignees, value: [...new Set(audits.filter((a) => !closedAudit(a)).map((a) => a.leadAuditor))] },
    ]);
    upsertMemo({ kind: 'internal-audit-programme', year, state, auditStates: Object.fromEntries(audits.map((a) => [a.auditId, a.state])) });
    const tally = audits.length
      ? ` · ${audits.length} audit(s): ${count('planned')} planned, ${count('in-progress')} in progress, ${count('reported')} reported${overdue ? `, ${overdue} overdue` : ''}${count('cancelled') ? `, ${count('cancelled')} cancelled` : ''}`
      : '';
    const gaps = coverage?.uncovered.length ? ` · coverage gaps: ${coverage.uncovered.length}` : '';
    setCurrentDetails(`**Internal audit programme ${year}** · ${stateText[state]}${tally}${gaps} · year-end report ${formatDay(yearEndAtMs)}`);
  };

  const records = ledgerWriter({ clauses: clauses, identity: () => ({ year, workflowId }) });
  const ledger = records.append;

  const send = (kind: 'internal-audit.reminder' | 'internal-audit.escalated', to: PersonRef[], data: Record<string, unknown>) =>
    notify({ notificationId: `${workflowId}/${info.firstExecutionRunId}/${++notificationSeq}-${kind}`, kind, to, data: { clauses, ...data } });

  const ack = (message: string): UpdateAck => ({ ok: true, state, message });
  const ready = () => aimsManagerId !== undefined;
  let internalAuditors: string[] = [];
  const ensureAdmin = (by: string, what: string) => {
    if (by !== 'system' && by !== aimsManagerId) reject(`only the AIMS manager can ${what}`);
  };
  const ensureRunning = (what: string) => {
    if (state !== 'running') reject(`the programme is ${stateText[state]}: audits can be ${what} only once the plan is approved and before the year-end report`);
  };
  const openAudit = (auditId: string): TrackedAudit => {
    const a = find(auditId);
    if (!a) reject(`no audit ${auditId} in the ${year} programme (audits: ${audits.map((x) => x.auditId).join(', ') || 'none'})`);
    if (a.state === 'reported') reject(`audit ${auditId} is already reported`);
    if (a.state === 'cancelled') reject(`audit ${auditId} is cancelled`);
    return a;
  };
  const windowInYear = (w: { start: string; end: string }) => {
    if (windowStartMs(w) < Date.UTC(year, 0, 1) || windowEndMs(w) > Date.UTC(year + 1, 0, 1)) reject(`window: must be within ${year}`);
  };
  const issueMessage = (issues: PlanIssue[]) => issues.map((i) => i.message);
  const plannedOf = (a: TrackedAudit): PlannedAudit => ({
    auditId: a.auditId,
    title: a.title,
    ...(a.objectives ? { objectives: a.objectives } : {}),
    ...(a.criteria ? { criteria: a.criteria } : {}),
    scope: a.scope,
    window: a.window,
    leadAuditor: a.leadAuditor,
    auditee: a.auditee,
  });
  /** Validates with an activity; a validation that cannot run rejects the update with the reason. */
  const validate = async (input: { audits: PlannedAudit[]; checkIds?: string[] }) => {
    try {
      return await acts.validateInternalAuditPlan({ year, ...input });
    } catch (err) {
      if (isCancellation(err)) throw err;
      return reject(`the plan could not be checked: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`);
    }
  };
  const signalAudit = async (auditId: string, change: AuditChange) => {
    const handle = handles.get(auditId);
    if (handle) await handle.signal(auditChangeSignal, change);
  };

  // Queries, signals and updates.
  setHandler(programmeStatusQuery, status);

  setHandler(auditProgressSignal, (p) => {
    const a = find(p.auditId);
    if (!a || a.cancellation) return;
    a.step = p.state;
    if (p.findings) a.findings = p.findings;
    if (p.ncIds) a.ncIds = p.ncIds;
    if (p.state === 'reported') a.reportedAt = p.at;
    publish();
  });

  setHandler(
    submitPlanUpdate,
    ...guardedUpdate({
      schema: submitPlanSchema,
      ready,
      check: (input) => {
        if (!['system', aimsManagerId, ...internalAuditors].includes(input.by)) reject('only the AIMS manager or an internal auditor can submit the audit plan');
        if (state !== 'planning' || pendingPlan) reject(`the programme is ${stateText[state]}: a plan can be submitted only while it waits for one`);
        if (busy) reject('another change is being applied; try again in a moment');
      },
      apply: async (input) => {
        busy = true;
        try {
          const result = await validate({ audits: input.audits });
          if (result.errors.length) reject(`The plan was not accepted: ${describeIssues(result.errors)}`);
          pendingPlan = { audits: input.audits, by: input.by, warnings: result.warnings, coverage: result.coverage };
          event('plan-submitted', input.by, `plan submitted with ${input.audits.length} audit(s)${input.note ? `: ${input.note}` : ''}`);
          return { ...ack(`Plan with ${input.audits.length} audit(s) accepted for approval.`), warnings: issueMessage(result.warnings) };
        } finally {
          busy = false;
        }
      },
    }),
  );

  setHandler(
    rescheduleAuditUpdate,
    ...guardedUpdate({
      schema: rescheduleAuditSchema,
      ready,
      check: (input) => {
        ensureAdmin(input.by, 'reschedule an audit');
        ensureRunning('rescheduled');
        const a = openAudit(input.auditId);
        if (started(a)) reject(`audit ${input.auditId} has started its fieldwork and can no longer be moved`);
        windowInYear(input.window);
      },
      apply: async (input) => {
        const a = openAudit(input.auditId);
        const previous = a.window;
        a.window = input.window;
        a.reminded = false;
        a.escalated = false;
        generation.set(a.auditId, (generation.get(a.auditId) ?? 0) + 1);
        event('audit-rescheduled', input.by, `${a.auditId} moved from ${windowText(previous)} to ${windowText(a.window)}: ${input.reason}`);
        publish();
        await signalAudit(a.auditId, { type: 'reschedule', window: a.window, reason: input.reason, by: input.by });
        await ledger('internal-audit-programme.audit-rescheduled', input.by, { auditId: a.auditId, from: previous, to: a.window, reason: input.reason });
        return ack(`Audit ${a.auditId} moved to ${windowText(a.window)}.`);
      },
    }),
  );

  setHandler(
    changeAuditorUpdate,
    ...guardedUpdate({
      schema: changeAuditorSchema,
      ready,
      check: (input) => {
        ensureAdmin(input.by, 'change an auditor');
        ensureRunning('given another auditor');
        const a = openAudit(input.auditId);
        if (a.leadAuditor === input.leadAuditor) reject(`${input.leadAuditor} already leads audit ${input.auditId}`);
        if (busy) reject('another change is being applied; try again in a moment');
      },
      apply: async (input) => {
        busy = true;
        try {
          const a = openAudit(input.auditId);
          const changed = { ...plannedOf(a), leadAuditor: input.leadAuditor };
          const result = await validate({ audits: audits.map((x) => (x.auditId === a.auditId ? changed : plannedOf(x))), checkIds: [a.auditId] });
          if (result.errors.length) reject(`The auditor was not changed: ${describeIssues(result.errors)}`);
          const previous = a.leadAuditor;
          a.leadAuditor = input.leadAuditor;
          generation.set(a.auditId, (generation.get(a.auditId) ?? 0) + 1);
          event('auditor-changed', input.by, `${a.auditId}: lead auditor ${previous} → ${a.leadAuditor}: ${input.reason}`);
          publish();
          await signalAudit(a.auditId, { type: 'auditor', leadAuditor: a.leadAuditor, reason: input.reason, by: input.by });
          await ledger('internal-audit-programme.auditor-changed', input.by, { auditId: a.auditId, from: previous, to: a.leadAuditor, reason: input.reason });
          return ack(`${a.leadAuditor} now leads audit ${a.auditId}.`);
        } finally {
          busy = false;
        }
      },
    }),
  );

  setHandler(
    addAuditUpdate,
    ...guardedUpdate({
      schema: addAuditSchema,
      ready,
      check: (input) => {
        ensureAdmin(input.by, 'add an audit');
        ensureRunning('added');
        if (find(input.audit.auditId)) reject(`audit ${input.audit.auditId} is already in the ${year} programme`);
        if (busy) reject('another change is being applied; try again in a moment');
      },
      apply: async (input) => {
        busy = true;
        try {
          const all = [...audits.filter((a) => !a.cancellation).map(plannedOf), input.audit];
          const result = await validate({ audits: all, checkIds: [input.audit.auditId] });
          if (result.errors.length) reject(`The audit was not added: ${describeIssues(result.errors.map((e) => ({ ...e, field: e.field.replace(/^audits\.\d+/, 'audit') })))}`);
          warnings = result.warnings;
          coverage = result.coverage;
          const tracked = track(input.audit, true);
          event('audit-added', input.by, `unplanned audit ${tracked.auditId} added (${windowText(tracked.window)})${input.reason ? `: ${input.reason}` : ''}`);
          publish();
          await ledger('internal-audit-programme.audit-added', input.by, { audit: input.audit, reason: input.reason ?? null, warnings: result.warnings });
          startAudit(tracked);
          return { ...ack(`Audit ${tracked.auditId} added to the ${year} programme.`), warnings: issueMessage(result.warnings) };
        } finally {
          busy = false;
        }
      },
    }),
  );

  setHandler(
    cancelAuditUpdate,
    ...guardedUpdate({
      schema: cancelAuditSchema,
      ready,
      check: (input) => {
        ensureAdmin(input.by, 'cancel an audit');
        ensureRunning('cancelled');
        openAudit(input.auditId);
      },
      apply: async (input) => {
        const a = openAudit(input.auditId);
        a.cancellation = { by: input.by, at: new Date().toISOString(), reason: input.reason };
        event('audit-cancelled', input.by, `${a.auditId} cancelled: ${input.reason}`);
        publish();
        scopes.get(a.auditId)?.cancel();
        await ledger('internal-audit-programme.audit-cancelled', input.by, { auditId: a.auditId, reason: input.reason });
        return ack(`Audit ${a.auditId} is cancelled.`);
      },
    }),
  );

  setHandler(
    closeYearUpdate,
    ...guardedUpdate({
      schema: closeYearSchema,
      ready,
      check: (input) => {
        ensureAdmin(input.by, 'close the programme year');
        ensureRunning('reported on');
        if (closeYearNow) reject('the year-end report is already being written');
      },
      apply: (input) => {
        closeYearNow = { by: input.by, reason: input.reason };
        event('year-closed', input.by, `year-end report requested before ${formatDay(yearEndAtMs)}: ${input.reason}`);
        return ack('The year-end report is being written.');
      },
    }),
  );

  // Settings.
  publish();
  const settings = await acts.internalAuditSettings();
  const reminderBeforeMs = spec.policy.reminderBefore ? durationMs(spec.policy.reminderBefore) : settings.reminderBeforeMs;
  const planDueMs = spec.policy.planDue ? durationMs(spec.policy.planDue) : settings.planDueMs;
  const approvalDueMs = spec.policy.approvalDue ? durationMs(spec.policy.approvalDue) : settings.approvalDueMs;
  internalAuditors = settings.internalAuditorIds;
  aimsManagerId = settings.aimsManagerId;
  const aimsManager = aimsManagerId;
  event('started', spec.requestedBy, `programme ${year} started (${spec.trigger === 'schedule' ? 'by its yearly schedule' : 'by an admin'})`);
  publish();

  // A plan given at start is validated like one submitted later; errors fail the start.
  if (spec.audits) {
    const result = await acts.validateInternalAuditPlan({ year, audits: spec.audits });
    if (result.errors.length) invalidInput(`Invalid internal audit programme: ${describeIssues(result.errors)}`);
    pendingPlan = { audits: spec.audits, by: spec.requestedBy, warnings: result.warnings, coverage: result.coverage };
  }

  /** Waits for a plan, with a task to the AIMS manager that reminds and escalates until it arrives. */
  const awaitPlan = async (round: number, why: string) => {
    state = 'planning';
    publish();
    for (let attempt = 1; !pendingPlan; attempt += 1) {
      const taskKey = `plan-${round}${attempt > 1 ? `-${attempt}` : ''}`;
      planTask = { workflowId: childWorkflowId(taskKey) };
      const scope = new CancellationScope();
      const task = scope.run(() =>
        runTask(taskKey, {
          title: `Plan the ${year} internal audit programme`,
          instructions: `${why}\n\nFor each audit give its scope (clauses, Annex A controls, processes, AI systems), a window within ${year}, a lead auditor who does not audit their own work, and the auditee (the process owner). Over ${settings.coverageCycleYears} year(s) the audits must cover clauses 4-10 and every applicable Annex A control.\n\nSubmit the plan through the admin API (PUT /admin/internal-audit-programmes/${year}/plan) or the admin CLI (aimsflow internal-audit plan ${year} --file plan.yaml). This task closes by itself once the plan is submitted; completing it here only records a note.`,
          clauses,
          process: 'internal-audit-programme',
          assignee: { person: aimsManager },
          dueAt: new Date(Date.now() + planDueMs).toISOString(),
          form: 'text',
          requestedBy: 'system',
          policy: spec.policy.tasks,
        }),
      );
      let done = false;
      const settled = task.then(
        () => {
          done = true;
        },
        (err: unknown) => {
          done = true;
          if (!isCancellation(err)) throw err;
        },
      );
      await condition(() => pendingPlan !== undefined || done);
      if (!done) scope.cancel();
      await settled;
      if (!pendingPlan) event('plan-task-closed', aimsManager, 'the planning task was closed without a plan; asked again');
    }
    planTask = undefined;
  };

  if (!pendingPlan) await awaitPlan(1, `The ${year} internal audit programme (ISO/IEC 42001 9.2.2) needs its plan.`);

  // Approval of the plan by the AIMS manager (top management when the AIMS manager prepared it).
  let plan: NonNullable<typeof pendingPlan>;
  for (let round = 1; ; round += 1) {
    plan = pendingPlan!;
    warnings = plan.warnings;
    coverage = plan.coverage;
    state = 'approval';
    const approvalKey = `plan-approval-${round}`;
    approval = { workflowId: childWorkflowId(approvalKey), round };
    publish();
    await ledger('internal-audit-programme.plan', plan.by, { round, audits: plan.audits, warnings: plan.warnings, coverage: plan.coverage }, `plan-${round}`);
    const content = { year, audits: plan.audits };
    // A plan from the admin API counts as prepared by the AIMS manager (then top management approves).
    const preparer = plan.by === 'system' ? aimsManager : plan.by;
    const decision = await runApproval(approvalKey, {
      kind: 'internal-audit-programme',
      title: `Internal audit programme ${year}`,
      summary: [
        `Internal audit programme ${year}: ${plan.audits.length} audit(s).`,
        ...plan.audits.map(
          (a) =>
            `${a.auditId} · ${a.title} · ${windowText(a.window)} · lead auditor ${a.leadAuditor} · auditee ${a.auditee} · scope: ${[...a.scope.clauses, ...a.scope.controls, ...a.scope.processes, ...a.scope.aiSystems].join(', ')}`,
        ),
        plan.warnings.length ? `Warnings:\n${plan.warnings.map((w) => `- ${w.message}`).join('\n')}` : 'Coverage: the AIMS scope is covered within the audit cycle.',
      ].join('\n\n'),
      contentHash: await acts.contentHash(content),
      approvers: preparer === aimsManager ? [{ role: 'top-management' }] : [{ person: aimsManager }],
      rule: { type: 'any' },
      preparer,
      process: 'internal-audit-programme',
      clauses,
      dueAt: new Date(Date.now() + approvalDueMs).toISOString(),
      policy: spec.policy.tasks,
    });
    if (decision.status === 'approved') {
      approvedAt = decision.decidedAt;
      const by = decision.decisions.filter((d) => d.decision === 'approve').map((d) => d.by);
      event('plan-approved', by.join(', ') || 'system', `plan approved (round ${round})`);
      await ledger('internal-audit-programme.approved', by[0] ?? 'system', { round, approvedBy: by, audits: plan.audits }, 'approved');
      break;
    }
    const comments = decision.decisions.filter((d) => d.decision === 'reject' && d.comment).map((d) => d.comment);
    lastRejection = decision.status === 'expired' ? 'nobody decided before the approval expired' : comments.join('; ') || decision.status;
    event('plan-rejected', decision.decisions.find((d) => d.decision === 'reject')?.by ?? 'system', `plan sent back: ${lastRejection}`);
    pendingPlan = undefined;
    await awaitPlan(round + 1, `The plan of the ${year} internal audit programme was sent back: ${lastRejection}. Please revise it and submit it again.`);
  }
  approval = undefined;

  /** Adds an audit to the tracked list. */
  function track(a: PlannedAudit, unplanned: boolean): TrackedAudit {
    const tracked: TrackedAudit = {
      ...a,
      workflowId: internalAuditWorkflowId(key, a.auditId),
      state: 'planned',
      step: 'not-started',
      unplanned,
      reminded: false,
      escalated: false,
      ncIds: [],
    };
    audits.push(tracked);
    generation.set(a.auditId, 0);
    return tracked;
  }

  /** Waits until `atMs`, or until the audit changes or closes; true when the time came. */
  const waitUntil = async (a: TrackedAudit, gen: number, atMs: number) =>
    !(await condition(() => generation.get(a.auditId) !== gen || closedAudit(a), Math.max(1, atMs - Date.now())));

  /** Reminder before the window and escalation at its end, re-armed when the audit changes. */
  const watch = async (a: TrackedAudit) => {
    for (;;) {
      if (closedAudit(a)) return;
      const gen = generation.get(a.auditId) ?? 0;
      if (!a.reminded) {
        if (!(await waitUntil(a, gen, windowStartMs(a.window) - reminderBeforeMs))) continue;
        a.reminded = true;
        if (!started(a) && Date.now() < windowStartMs(a.window)) {
          const [auditor, auditee] = await acts.resolvePeople([{ person: a.leadAuditor }, { person: a.auditee }]);
          event('auditor-reminded', 'system', `${a.auditId}: ${a.leadAuditor} reminded of the window ${windowText(a.window)}`);
          await send('internal-audit.reminder', auditor ? [auditor] : [], {
            title: `${a.auditId}: ${a.title}`,
            windowText: windowText(a.window),
            auditeeName: auditee?.name ?? a.auditee,
          });
        }
        continue;
      }
      if (!a.escalated) {
        if (!(await waitUntil(a, gen, windowEndMs(a.window)))) continue;
        if (started(a) || closedAudit(a)) {
          a.escalated = false;
        } else {
          a.escalated = true;
          publish();
          const [auditor] = await acts.resolvePeople([{ person: a.leadAuditor }]);
          const to = await acts.resolvePeople([{ person: aimsManager }, { role: 'top-management' }]);
          event('audit-escalated', 'system', `${a.auditId} not started by the end of its window ${windowText(a.window)}; escalated`);
          await ledger('internal-audit-programme.audit-overdue', 'system', { auditId: a.auditId, window: a.window, step: a.step });
          await send('internal-audit.escalated', to, {
            title: `${a.auditId}: ${a.title}`,
            windowText: windowText(a.window),
            auditorName: auditor?.name ?? a.leadAuditor,
            stateText: a.step === 'not-started' ? 'not started' : a.step,
          });
        }
      }
      await condition(() => generation.get(a.auditId) !== gen || closedAudit(a));
    }
  };

  /** Starts an audit as a child workflow, with its reminder and escalation watch. */
  function startAudit(a: TrackedAudit): void {
    const scope = new CancellationScope();
    scopes.set(a.auditId, scope);
    const run = scope
      .run(async () => {
        const handle = await startChild<(input: InternalAuditInput) => Promise<InternalAuditResult>>('internalAudit', {
          workflowId: a.workflowId,
          args: [
            {
              year,
              audit: plannedOf(a),
              programmeWorkflowId: workflowId,
              policy: {
                ...(spec.policy.stepDue ? { stepDue: spec.policy.stepDue } : {}),
                ...(spec.policy.approvalDue ? { approvalDue: spec.policy.approvalDue } : {}),
                tasks: spec.policy.tasks,
              },
            },
          ],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          staticSummary: `Internal audit ${a.auditId} (${year}): ${a.title}`,
          typedSearchAttributes: [
            { key: searchAttributes.process, value: 'internal-audit' },
            { key: searchAttributes.ref, value: `IA-${year}-${a.auditId}` },
            { key: searchAttributes.owner, value: a.leadAuditor },
          ],
        });
        handles.set(a.auditId, handle);
        const watching = watch(a).catch((err: unknown) => {
          if (!isCancellation(err)) log.error('internal audit watch failed', { auditId: a.auditId, error: err instanceof Error ? err.message : String(err) });
        });
        const result = await handle.result();
        if (result.status === 'reported') {
          a.step = 'reported';
          a.ncIds = result.ncIds;
          a.reportedAt = result.reportedAt;
        } else if (!a.cancellation && result.cancellation) {
          a.cancellation = result.cancellation;
        }
        publish();
        await watching;
      })
      .catch((err: unknown) => {
        if (isCancellation(err)) {
          a.cancellation ??= { by: 'system', at: new Date().toISOString(), reason: 'cancelled' };
        } else {
          log.error('internal audit failed', { auditId: a.auditId, error: err instanceof Error ? err.message : String(err) });
          a.cancellation ??= { by: 'system', at: new Date().toISOString(), reason: `the audit workflow failed: ${err instanceof Error ? err.message : String(err)}` };
        }
        publish();
      });
    running.push(run);
  }

  for (const a of plan.audits) track(a, false);
  state = 'running';
  publish();
  for (const a of audits) startAudit(a);

  // The year runs; changes arrive through the updates above.
  await condition(() => closeYearNow !== undefined, Math.max(1, yearEndAtMs - Date.now()));

  // Year-end report.
  state = 'reporting';
  publish();
  const reported = audits.filter((a) => a.state === 'reported');
  coverage = await acts.internalAuditCoverage({ year, scopes: reported.map((a) => a.scope) });
  const ncIds = [...new Set(audits.flatMap((a) => a.ncIds))];
  const ncStates = await acts.nonconformityStates(ncIds);
  reportedAt = new Date().toISOString();
  const findingsByType = reported.reduce((sum, a) => addCounts(sum, a.findings ?? zeroCounts()), zeroCounts());
  const report: ProgrammeReportContent = {
    year,
    workflowId,
    reportedAt,
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
    findingsByType,
    ncs: ncStates.map((n) => ({ ...n, auditId: audits.find((a) => a.ncIds.includes(n.ncId))?.auditId ?? '' })),
  };
  await ledger(INTERNAL_AUDIT_PROGRAMME_REPORT, 'system', report as unknown as Record<string, unknown>, 'report');
  event('reported', 'system', `year-end report written: ${reported.length} audit(s) reported, ${coverage.uncovered.length} item(s) not covered in the cycle`);
  publish();

  // Audits not started by the year end are cancelled; those under way finish before the programme closes.
  for (const a of audits) {
    if (a.state === 'planned' || a.state === 'overdue') {
      a.cancellation = { by: 'system', at: new Date().toISOString(), reason: `not carried out within the ${year} programme` };
      event('audit-cancelled', 'system', `${a.auditId} cancelled: ${a.cancellation.reason}`);
      scopes.get(a.auditId)?.cancel();
    }
  }
  publish();
  await Promise.all(running);
  state = 'closed';
  publish();
  await condition(allHandlersFinished);
  return { year, status: 'closed', reportedAt, audits: audits.map((a) => ({ auditId: a.auditId, state: a.state })) };
}
