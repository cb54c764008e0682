/**
 * Internal audit programme (ISO/IEC 42001 9.2.2): one workflow per year. The plan (given at
 * start, or asked of the AIMS manager and submitted through an update) is validated
 * (impartiality, windows inside the year, coverage of the AIMS scope over the audit cycle) and
 * approved; then each audit runs as a child workflow. The programme reminds lead auditors before
 * each window, escalates audits not started by the end of their window, accepts changes during
 * the year (reschedule, change auditor, add, cancel) and, at the end of the year, writes the
 * programme report to the ledger: coverage achieved, findings by type, the NCs raised and their
 * state; an interim report while audits are still under way, the final one once they finish.
 */
import { allHandlersFinished, condition, patched } from '@temporalio/workflow';
import { internalAuditProgrammeInputSchema, type InternalAuditProgrammeInput, type ProgrammeResult } from '../../src/internal-audit/schema.js';
import { acts } from '../lib/activities.js';
import { parseOrThrow } from '../lib/util.js';
import { registerProgrammeHandlers } from './programme-handlers.js';
import { Programme } from './programme-state.js';
import { approvePlan, awaitPlan, checkStartPlan, finishAudits, reportTheYear, startAudit, writeYearEndReport } from './programme-steps.js';

export async function internalAuditProgramme(rawInput: InternalAuditProgrammeInput): Promise<ProgrammeResult> {
  const p = new Programme(parseOrThrow(internalAuditProgrammeInputSchema, rawInput, 'internal audit programme input'));
  registerProgrammeHandlers(p);

  // Settings: the AIMS manager, the internal auditors and the programme's timing.
  p.publish();
  p.setUp(await acts.internalAuditSettings());
  p.event('started', p.spec.requestedBy, `programme ${p.year} started (${p.spec.trigger === 'schedule' ? 'by its yearly schedule' : 'by an admin'})`);
  p.publish();

  // Plan: given at start (checked like a submitted plan), or asked of the AIMS manager.
  if (p.spec.audits) await checkStartPlan(p);
  if (!p.pendingPlan) await awaitPlan(p, 1, `The ${p.year} internal audit programme (ISO/IEC 42001 9.2.2) needs its plan.`);

  // Approval of the plan; a plan sent back is planned again.
  const plan = await approvePlan(p);

  // The audits: each runs as a child workflow, its lead auditor reminded before the window and
  // the AIMS manager and top management told when it has not started by the window's end.
  for (const a of plan.audits) p.track(a, false);
  p.state = 'running';
  p.publish();
  for (const a of p.audits) startAudit(p, a);

  // The year runs until its end, or until the AIMS manager closes it early; changes arrive
  // through the updates (reschedule, change the auditor, add or cancel an audit).
  await condition(() => p.closeYearNow !== undefined, Math.max(1, p.yearEndAtMs - Date.now()));

  // Year end: the audits not started are cancelled; the report of the year is final once every
  // audit under way has finished, with an interim report until then. (Programmes that started
  // before this wrote their report at once, and the audits under way finished after it.)
  let reportedAt: string;
  if (patched('final-programme-report')) {
    reportedAt = await reportTheYear(p);
  } else {
    reportedAt = await writeYearEndReport(p);
    await finishAudits(p);
  }
  p.state = 'closed';
  p.publish();
  await condition(allHandlersFinished);
  return { year: p.year, status: 'closed', reportedAt, audits: p.audits.map((a) => ({ auditId: a.auditId, state: a.state })) };
}
