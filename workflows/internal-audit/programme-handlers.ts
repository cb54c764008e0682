/**
 * What reaches a running programme: the status query, its audits' progress, the plan submitted
 * while it waits for one, and the changes during the year (reschedule, change the auditor, add
 * or cancel an audit, close the year early). Each update's validator refuses with a reason a
 * person can read; a change that needs the plan rules is checked again by them.
 */
import { setHandler } from '@temporalio/workflow';
import {
  addAuditUpdate,
  auditProgressSignal,
  cancelAuditUpdate,
  changeAuditorUpdate,
  closeYearUpdate,
  programmeStatusQuery,
  rescheduleAuditUpdate,
  submitPlanUpdate,
} from '../../src/internal-audit/contract.js';
import {
  addAuditSchema,
  cancelAuditSchema,
  changeAuditorSchema,
  closeYearSchema,
  describeIssues,
  rescheduleAuditSchema,
  submitPlanSchema,
  windowText,
  type PlanIssue,
} from '../../src/internal-audit/schema.js';
import { onUpdate } from '../lib/handlers.js';
import { formatDay, reject } from '../lib/util.js';
import { plannedOf, started, type Programme } from './programme-state.js';
import { registerProgrammeHandover } from './programme-handover.js';
import { startAudit } from './programme-steps.js';

const messages = (issues: PlanIssue[]) => issues.map((i) => i.message);

export function registerProgrammeHandlers(p: Programme): void {
  setHandler(programmeStatusQuery, () => p.status());

  setHandler(auditProgressSignal, (progress) => {
    const a = p.find(progress.auditId);
    if (!a || a.cancellation) return;
    a.step = progress.state;
    if (progress.findings) a.findings = progress.findings;
    if (progress.ncIds) a.ncIds = progress.ncIds;
    if (progress.state === 'reported') a.reportedAt = progress.at;
    p.publish();
  });

  onUpdate(submitPlanUpdate, {
    schema: submitPlanSchema,
    ready: p.ready,
    check: (input) => {
      if (!['system', p.aimsManagerId, ...p.internalAuditors].includes(input.by)) reject('only the AIMS manager or an internal auditor can submit the audit plan');
      p.ensureWaitingForPlan();
      p.ensureNotBusy();
    },
    apply: (input) =>
      p.exclusively(async () => {
        const result = await p.validate({ audits: input.audits });
        if (result.errors.length) reject(`The plan was not accepted: ${describeIssues(result.errors)}`);
        p.pendingPlan = { audits: input.audits, by: input.by, warnings: result.warnings, coverage: result.coverage };
        p.event('plan-submitted', input.by, `plan submitted with ${input.audits.length} audit(s)${input.note ? `: ${input.note}` : ''}`);
        return { ...p.ack(`Plan with ${input.audits.length} audit(s) accepted for approval.`), warnings: messages(result.warnings) };
      }),
  });

  registerAuditChanges(p);
  registerProgrammeHandover(p);

  onUpdate(closeYearUpdate, {
    schema: closeYearSchema,
    ready: p.ready,
    check: (input) => {
      p.ensureChangeable(input.by, 'close the programme year', 'reported on');
      if (p.closeYearNow) reject('the year-end report is already being written');
    },
    apply: (input) => {
      p.closeYearNow = { by: input.by, reason: input.reason };
      p.event('year-closed', input.by, `year-end report requested before ${formatDay(p.yearEndAtMs)}: ${input.reason}`);
      return p.ack('The year-end report is being written.');
    },
  });
}

/** The AIMS manager's changes to the audits during the year: reschedule, change the auditor, add, cancel. */
function registerAuditChanges(p: Programme): void {
  onUpdate(rescheduleAuditUpdate, {
    schema: rescheduleAuditSchema,
    ready: p.ready,
    check: (input) => {
      const a = p.auditToChange(input, 'reschedule an audit', 'rescheduled');
      if (started(a)) reject(`audit ${input.auditId} has started its fieldwork and can no longer be moved`);
      p.windowInYear(input.window);
      p.windowNotPast(input);
    },
    apply: async (input) => {
      const a = p.openAudit(input.auditId);
      const previous = a.window;
      a.window = input.window;
      a.reminded = false;
      a.escalated = false;
      if (input.alreadyHeld) a.alreadyHeld = true;
      else delete a.alreadyHeld;
      const held = input.alreadyHeld ? ' (an audit already held)' : '';
      p.changed(a, 'audit-rescheduled', input.by, `${a.auditId} moved from ${windowText(previous)} to ${windowText(a.window)}${held}: ${input.reason}`);
      await p.signalAudit(a.auditId, { type: 'reschedule', window: a.window, reason: input.reason, by: input.by });
      await p.recorder.append('internal-audit-programme.audit-rescheduled', input.by, {
        auditId: a.auditId,
        from: previous,
        to: a.window,
        reason: input.reason,
        ...(input.alreadyHeld ? { alreadyHeld: true } : {}),
      });
      return p.ack(`Audit ${a.auditId} moved to ${windowText(a.window)}.`);
    },
  });

  onUpdate(changeAuditorUpdate, {
    schema: changeAuditorSchema,
    ready: p.ready,
    check: (input) => {
      const a = p.auditToChange(input, 'change an auditor', 'given another auditor');
      if (a.leadAuditor === input.leadAuditor) reject(`${input.leadAuditor} already leads audit ${input.auditId}`);
      p.ensureNotBusy();
    },
    apply: (input) =>
      p.exclusively(async () => {
        const a = p.openAudit(input.auditId);
        // Impartiality is checked again for the new auditor, against the whole programme.
        const changed = { ...plannedOf(a), leadAuditor: input.leadAuditor };
        const result = await p.validate({ audits: p.audits.map((x) => (x.auditId === a.auditId ? changed : plannedOf(x))), checkIds: [a.auditId] });
        if (result.errors.length) reject(`The auditor was not changed: ${describeIssues(result.errors)}`);
        await p.changeAuditor(a, input.leadAuditor, input.by, input.reason);
        return p.ack(`${a.leadAuditor} now leads audit ${a.auditId}.`);
      }),
  });

  onUpdate(addAuditUpdate, {
    schema: addAuditSchema,
    ready: p.ready,
    check: (input) => {
      p.ensureChangeable(input.by, 'add an audit', 'added');
      if (p.find(input.audit.auditId)) reject(`audit ${input.audit.auditId} is already in the ${p.year} programme`);
      p.windowNotPast({ window: input.audit.window, alreadyHeld: input.alreadyHeld, reason: input.reason }, 'audit.');
      p.ensureNotBusy();
    },
    apply: (input) =>
      p.exclusively(async () => {
        const all = [...p.audits.filter((a) => !a.cancellation).map(plannedOf), input.audit];
        const result = await p.validate({ audits: all, checkIds: [input.audit.auditId] });
        if (result.errors.length) reject(`The audit was not added: ${describeIssues(result.errors.map((e) => ({ ...e, field: e.field.replace(/^audits\.\d+/, 'audit') })))}`);
        p.warnings = result.warnings;
        p.coverage = result.coverage;
        const tracked = p.track(input.audit, true);
        if (input.alreadyHeld) tracked.alreadyHeld = true;
        const held = input.alreadyHeld ? ', an audit already held' : '';
        p.event('audit-added', input.by, `unplanned audit ${tracked.auditId} added (${windowText(tracked.window)}${held})${input.reason ? `: ${input.reason}` : ''}`);
        p.publish();
        await p.recorder.append('internal-audit-programme.audit-added', input.by, {
          audit: input.audit,
          reason: input.reason ?? null,
          warnings: result.warnings,
          ...(input.alreadyHeld ? { alreadyHeld: true } : {}),
        });
        startAudit(p, tracked);
        return { ...p.ack(`Audit ${tracked.auditId} added to the ${p.year} programme.`), warnings: messages(result.warnings) };
      }),
  });

  onUpdate(cancelAuditUpdate, {
    schema: cancelAuditSchema,
    ready: p.ready,
    check: (input) => {
      p.auditToChange(input, 'cancel an audit', 'cancelled');
    },
    apply: async (input) => {
      const a = p.openAudit(input.auditId);
      a.cancellation = { by: input.by, at: new Date().toISOString(), reason: input.reason };
      p.event('audit-cancelled', input.by, `${a.auditId} cancelled: ${input.reason}`);
      p.publish();
      p.scopes.get(a.auditId)?.cancel();
      await p.recorder.append('internal-audit-programme.audit-cancelled', input.by, { auditId: a.auditId, reason: input.reason });
      return p.ack(`Audit ${a.auditId} is cancelled.`);
    },
  });
}
