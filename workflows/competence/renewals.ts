/**
 * Competence renewals (ISO/IEC 42001 7.2), run by the `daily/competence-renewals` schedule: each
 * person whose evidence of a required competence expires within `competence.renewBefore` gets a
 * renewal task (`competence-renewal/<person>/<competence>/<expiry>`, once per expiry, outliving
 * the run), due on the expiry day and reminded and escalated like any task; each request is
 * recorded.
 */
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';
import { renewalTaskId, type CompetenceRenewalsInput, type CompetenceRenewalsResult } from '../../src/competence/contract.js';
import { COMPETENCE_CLAUSES, COMPETENCE_PROCESS } from '../../src/competence/rules.js';
import { TASK_WORKFLOW } from '../../src/task/contract.js';
import type { HumanTaskInput } from '../../src/task/schema.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts } from '../lib/activities.js';
import { startDetached } from '../lib/children.js';
import { ledgerWriter } from '../lib/ledger.js';

const DAY_MS = 86_400_000;

export async function competenceRenewals(input: CompetenceRenewalsInput = {}): Promise<CompetenceRenewalsResult> {
  const ledger = ledgerWriter({ clauses: COMPETENCE_CLAUSES, identity: () => ({ run: workflowInfo().workflowId }) });
  const due = await acts.competenceRenewalsDue(input.renewBefore ? { renewBefore: input.renewBefore } : {});
  const result: CompetenceRenewalsResult = { requested: [], alreadyRequested: [] };
  for (const r of due) {
    const taskId = renewalTaskId(r);
    // Due at the end of the expiry day; never in the past.
    const dueAt = new Date(Math.max(Date.parse(`${r.expiresOn}T23:59:00Z`), Date.now() + DAY_MS)).toISOString();
    const task: HumanTaskInput = {
      title: `Renew your evidence of the competence "${r.competence}" (expires ${r.expiresOn})`.slice(0, 200),
      instructions: `Your evidence of the competence "${r.competence}" (${r.evidence}) expires on ${r.expiresOn} (ISO/IEC 42001 7.2). Renew it (a course, a certificate, a supervised audit) and attach the new evidence. The AIMS manager then updates the organization file with the new expiry.`,
      clauses: [...COMPETENCE_CLAUSES],
      process: COMPETENCE_PROCESS,
      assignee: { person: r.person },
      dueAt,
      form: 'evidence',
      requestedBy: 'system',
      ...(input.tasks ? { policy: input.tasks } : {}),
    };
    const started = await startDetached(TASK_WORKFLOW, {
      workflowId: taskId,
      args: [task],
      // One task per expiry, whether it is still open or done.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: task.title,
      typedSearchAttributes: [
        { key: searchAttributes.process, value: COMPETENCE_PROCESS },
        { key: searchAttributes.owner, value: r.person },
        { key: searchAttributes.dueDate, value: new Date(dueAt) },
      ],
    });
    if (!started) {
      result.alreadyRequested.push(taskId);
      continue;
    }
    result.requested.push({ ...r, taskId });
    await ledger.append('competence.renewal-requested', 'system', { ...r, taskId, dueAt }, `renewal-${r.person}-${r.competence}-${r.expiresOn}`);
  }
  return result;
}
