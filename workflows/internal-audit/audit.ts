/**
 * Internal audit (ISO/IEC 42001 9.2): one workflow per audit of a programme. The lead auditor
 * and the auditee get a calendar invitation for the window; the auditor plans the audit, the
 * auditee acknowledges the plan, the auditor does the fieldwork and records the findings; the
 * report is approved (AIMS manager, or top management when the AIMS manager leads or recorded the
 * audit, is the auditee or owns an area in scope: src/people/duties.ts),
 * each nonconformity starts a corrective action that outlives the audit, each observation and
 * opportunity for improvement becomes an improvement item in the ledger, the report is e-mailed
 * to the relevant managers and the audit record goes to the ledger. The programme moves the
 * window or changes the auditor through a signal; cancelling the workflow cancels the audit.
 */
import { CancellationScope, isCancellation, patched } from '@temporalio/workflow';
import { internalAuditInputSchema, type InternalAuditInput, type InternalAuditResult } from '../../src/internal-audit/schema.js';
import { acts } from '../lib/activities.js';
import { closing, runLifecycle } from '../lib/lifecycle.js';
import { parseOrThrow } from '../lib/util.js';
import { registerAuditHandlers } from './audit-handlers.js';
import { Audit } from './audit-state.js';
import {
  acknowledgeStep,
  closeCancelled,
  fieldworkStep,
  planStep,
  raiseImprovements,
  raiseNonconformities,
  recordFindings,
  report,
  runAuditStep,
  watchChanges,
} from './audit-steps.js';

export async function internalAudit(rawInput: InternalAuditInput): Promise<InternalAuditResult> {
  const a = new Audit(parseOrThrow(internalAuditInputSchema, rawInput, 'internal audit input'));
  registerAuditHandlers(a);

  // The organization's settings: the AIMS manager and the timing of the steps.
  a.publish();
  a.setUp(await acts.internalAuditSettings());

  // The programme's changes (a moved window, another lead auditor) apply between and during the steps.
  const changeScope = new CancellationScope();
  let changeFailure: Error | undefined;
  const changes = changeScope.run(() => watchChanges(a)).catch((err: unknown) => {
    if (!isCancellation(err)) changeFailure = err instanceof Error ? err : new Error(String(err));
  });

  const ending = await runLifecycle(
    new CancellationScope(),
    async () => {
      // Invitation: the lead auditor and the auditee get the window in their calendars.
      await a.invite('scheduled', [a.leadAuditor, a.auditee]);

      // Plan: the lead auditor prepares the audit plan before the window.
      await a.setState('planning');
      a.plan = (await runAuditStep(a, planStep(a))).data;

      // Acknowledgement: the auditee acknowledges the plan.
      await a.setState('acknowledgement');
      await runAuditStep(a, acknowledgeStep(a));

      // Fieldwork within the window.
      await a.setState('fieldwork');
      a.fieldwork = (await runAuditStep(a, fieldworkStep(a))).data;

      // Findings, and the approval of the report (a report sent back is recorded again).
      return recordFindings(a);
    },
    () => false,
  );

  changeScope.cancel();
  await closing(async () => {
    await changes;
    if (changeFailure) throw changeFailure;
    if (ending.kind !== 'done') {
      // Cancelled by the programme or an operator, or a step cancelled on its own.
      await closeCancelled(a, ending.kind === 'step-cancelled' ? ending.reason : 'the audit was cancelled by its programme or an operator');
      return;
    }
    // Nonconformities become corrective actions, observations and opportunities improvement
    // items (audits that started before improvement items existed raise none); then the report
    // goes out and to the ledger.
    await raiseNonconformities(a);
    if (patched('audit-improvement-items')) await raiseImprovements(a);
    await report(a, ending.value);
  });
  if (ending.kind === 'cancelled' && ending.temporal) throw ending.temporal;
  return a.result();
}
