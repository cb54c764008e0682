/**
 * Starting a certificate's cycle: the input is validated with the domain schema (every bad
 * field named), the dates against the certification rules (an impossible date is refused with
 * the rule it breaks; risky ones are returned as warnings), and the workflow is started as
 * `certification/iso42001/<certificateId>` with its search attributes, memo and summary.
 */
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import {
  certificationInputSchema,
  checkCycleDates,
  cycleDatesOf,
  dateMs,
  type CertificationInput,
  type CertificationSpec,
  type CycleDates,
  type DateIssue,
} from './schema.js';
import type { Organization } from '../organization/schema.js';
import { consoleDetails, parseStartInput, StartCheck } from '../temporal/start.js';
import { CERTIFICATION_WORKFLOW, certificationAttributes, certificationWorkflowId, type CertificationWorkflow } from './contract.js';
import { certificationSettingsOf } from './settings.js';

export interface CertificationStarted {
  handle: WorkflowHandleWithFirstExecutionRunId<CertificationWorkflow>;
  warnings: DateIssue[];
}

/**
 * Checks a cycle's input without starting anything: the schema (every bad field named), the
 * certification body, who starts it, and the dates against the certification rules (an
 * impossible date throws StartInputError naming the field and the rule; risky ones are returned
 * as warnings).
 */
export function checkCertificationInput(input: CertificationInput, opts: { organization: Organization; now?: Date }): { spec: CertificationSpec; warnings: DateIssue[] } {
  const spec = parseStartInput(certificationInputSchema, input, 'certification cycle');
  const settings = certificationSettingsOf(opts.organization);
  const check = new StartCheck('certification cycle', opts.organization).actor('startedBy', spec.startedBy);
  if (!spec.body && !settings.body) check.add('body', 'is required: the organization file has no certification.body');
  const future = (['stage1', 'stage2', 'surveillance1', 'surveillance2', 'recertification'] as const).filter((k) => spec.plan[k] !== undefined);
  const dates: CycleDates = cycleDatesOf(spec);
  const checked = checkCycleDates(dates, { risky: settings.risky, nowMs: (opts.now ?? new Date()).getTime(), future: [...future] });
  for (const e of checked.errors) check.add(e.path, `${e.message} (rule ${e.rule})`);
  check.done();
  return { spec, warnings: checked.warnings };
}

/**
 * Validates `input` (throws StartInputError naming each bad field, date rules included) and
 * starts the cycle. Throws WorkflowExecutionAlreadyStartedError while a cycle of that
 * certificate runs.
 */
export async function startCertificationCycle(
  client: Client,
  taskQueue: string,
  input: CertificationInput,
  opts: { organization: Organization; now?: Date; publicBaseUrl?: string | undefined },
): Promise<CertificationStarted> {
  const { spec, warnings } = checkCertificationInput(input, opts);
  const settings = certificationSettingsOf(opts.organization);
  const next = spec.certificate ? spec.plan.surveillance1 : (spec.plan.stage1 ?? spec.plan.surveillance1);
  const handle = await client.workflow.start<CertificationWorkflow>(CERTIFICATION_WORKFLOW, {
    taskQueue,
    workflowId: certificationWorkflowId(spec.certificateId),
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    args: [spec],
    staticSummary: `Certification cycle of ${spec.certificateId} (ISO/IEC 42001)`,
    ...consoleDetails(opts.publicBaseUrl, certificationWorkflowId(spec.certificateId)),
    memo: { kind: 'certification', certificateId: spec.certificateId, cycle: spec.cycle },
    typedSearchAttributes: certificationAttributes({
      certificateId: spec.certificateId,
      state: spec.certificate ? 'valid' : 'stage-1',
      owner: settings.aimsManager.id,
      dueAt: new Date(dateMs(next)),
    }),
  });
  return { handle, warnings };
}
