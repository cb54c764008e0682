/**
 * The launcher a yearly Temporal Schedule starts: it works out which year the run is for (from
 * the time the schedule fired, also for backfilled runs) and starts that year's cycle as a
 * child with its business id (`internal-audit-programme/2027`, `management-review/2027`). The
 * cycle outlives the launcher; a cycle an admin already started, or that ran before, is left
 * alone (its id is never reused), so a re-run or a manual trigger cannot start a year twice.
 */
import { defineSearchAttributeKey, SearchAttributeType, WorkflowIdReusePolicy } from '@temporalio/common';
import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { INTERNAL_AUDIT_PROGRAMME_WORKFLOW, internalAuditProgrammeWorkflowId } from '../../src/internal-audit/contract.js';
import { MANAGEMENT_REVIEW_WORKFLOW, managementReviewWorkflowId } from '../../src/management-review/contract.js';
import { durationMs } from '../../src/common/duration.js';
import { SOA_REVIEW_WORKFLOW, soaReviewWorkflowId } from '../../src/soa/contract.js';
import { RISK_ASSESSMENT_WORKFLOW, riskAssessmentWorkflowId } from '../../src/risk/contract.js';
import { acts } from '../lib/activities.js';
import { scheduledCycleInputSchema, type ScheduledCycleInput, type ScheduledCycleResult } from '../../src/schedules/schema.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { startDetached } from '../lib/children.js';
import { parseOrThrow } from '../lib/util.js';

/** Set by the Temporal scheduler on every workflow a schedule starts. */
const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** The time the schedule fired: its search attribute, else the suffix it adds to the id, else the start. */
function firedAt(): Date {
  const info = workflowInfo();
  const attribute = info.typedSearchAttributes.get(scheduledStartTime);
  if (attribute instanceof Date && !Number.isNaN(attribute.getTime())) return attribute;
  const suffix = /-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)$/.exec(info.workflowId)?.[1];
  if (suffix && !Number.isNaN(Date.parse(suffix))) return new Date(suffix);
  return info.startTime;
}

/**
 * The planned risk assessments of the year (6.1.2, 8.2): the AIMS-wide one and one per AI system
 * of the inventory, each numbered once per year (a re-run finds the same ids and starts nothing).
 */
async function plannedRiskAssessments(at: Date): Promise<ScheduledCycleResult> {
  const year = at.getUTCFullYear();
  const planned = await acts.plannedRiskAssessments({ year });
  let aims = { workflowId: '', started: false };
  for (const p of planned) {
    const workflowId = riskAssessmentWorkflowId(p.scope, p.assessmentRef);
    const started = await startDetached(RISK_ASSESSMENT_WORKFLOW, {
      workflowId,
      args: [{ scope: p.scope, assessmentRef: p.assessmentRef, trigger: 'planned', reason: `planned risk assessment ${year}`, startedBy: 'system', ...(p.system ? { system: p.system } : {}) }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `Risk assessment ${p.scope}/${p.assessmentRef}`,
      typedSearchAttributes: [{ key: searchAttributes.process, value: 'risk-assessment' }],
    });
    if (p.scope === 'aims') aims = { workflowId, started };
  }
  upsertSearchAttributes([
    { key: searchAttributes.process, value: 'schedule' },
    { key: searchAttributes.ref, value: aims.workflowId },
    { key: searchAttributes.state, value: aims.started ? 'started' : 'already-started' },
  ]);
  setCurrentDetails(`Planned risk assessments ${year}: ${planned.length} (the AIMS and ${planned.length - 1} AI system(s))`);
  return { kind: 'risk-assessment', scheduledAt: at.toISOString(), workflowId: aims.workflowId, started: aims.started };
}

export async function scheduledCycle(rawInput: ScheduledCycleInput): Promise<ScheduledCycleResult> {
  const spec = parseOrThrow(scheduledCycleInputSchema, rawInput, 'scheduled cycle input');
  const at = firedAt();
  if (spec.kind === 'risk-assessment') return plannedRiskAssessments(at);
  let workflowId: string;
  let workflowType: string;
  let args: unknown[];
  let summary: string;
  if (spec.kind === 'internal-audit-programme') {
    const year = at.getUTCFullYear() + spec.yearOffset;
    workflowId = internalAuditProgrammeWorkflowId(year);
    workflowType = INTERNAL_AUDIT_PROGRAMME_WORKFLOW;
    args = [{ year, requestedBy: 'system', trigger: 'schedule' }];
    summary = `Internal audit programme ${year}`;
  } else if (spec.kind === 'soa-review') {
    const year = at.getUTCFullYear();
    workflowId = soaReviewWorkflowId(year);
    workflowType = SOA_REVIEW_WORKFLOW;
    args = [{ year, requestedBy: 'system', trigger: 'schedule' }];
    summary = `Statement of Applicability review ${year}`;
  } else {
    const reviewId = String(at.getUTCFullYear());
    const meetingDate = new Date(at.getTime() + durationMs(spec.meetingAfter)).toISOString().slice(0, 10);
    workflowId = managementReviewWorkflowId(reviewId);
    workflowType = MANAGEMENT_REVIEW_WORKFLOW;
    args = [{ reviewId, meetingDate, requestedBy: 'system', trigger: 'schedule' }];
    summary = `Management review ${reviewId} (meeting ${meetingDate})`;
  }
  upsertSearchAttributes([
    { key: searchAttributes.process, value: 'schedule' },
    { key: searchAttributes.ref, value: workflowId },
  ]);

  const started = await startDetached(workflowType, {
    workflowId,
    args,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    staticSummary: summary,
    typedSearchAttributes: [{ key: searchAttributes.process, value: spec.kind }],
  });
  setCurrentDetails(`${summary}: ${started ? 'started' : 'already started earlier, left alone'} · ${workflowId}`);
  upsertSearchAttributes([{ key: searchAttributes.state, value: started ? 'started' : 'already-started' }]);
  return { kind: spec.kind, scheduledAt: at.toISOString(), workflowId, started };
}
