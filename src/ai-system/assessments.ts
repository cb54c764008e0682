/**
 * Readers of an AI system's impact assessments, shared by the admin API and the console: every
 * assessment from the ledger (trigger, outcome, level), and one assessment's live status with
 * every ledger record of it and its steps.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { CheckedRecord, RecordsStore } from '../records/types.js';
import { executionFacts } from '../temporal/visibility.js';
import { aiSystemWorkflowId, impactAssessmentsOf, impactAssessmentStatusQuery, impactAssessmentWorkflowId } from './contract.js';

export interface AssessmentSummary {
  assessmentRef: string;
  workflowId: string;
  trigger: string;
  startedAt: string;
  /** Significant changes that led to it. */
  changes: number;
  /** `open`: still running, or ended without a record. */
  outcome: 'recorded' | 'cancelled' | 'open';
  level?: number;
  signedOffBy?: string;
  recordedAt?: string;
}

/** Every impact assessment of `systemId`, oldest first; undefined when the ledger knows no such system. */
export async function assessmentsOf(records: Pick<RecordsStore, 'list'>, systemId: string): Promise<AssessmentSummary[] | undefined> {
  const started = await records.list({ subject: aiSystemWorkflowId(systemId), kind: 'ai-system.assessment-started', limit: 1000 });
  if (started.length === 0) {
    const registered = await records.list({ subject: aiSystemWorkflowId(systemId), kind: 'ai-system.registered', limit: 1 });
    if (registered.length === 0) return undefined;
  }
  const prefix = impactAssessmentsOf(systemId);
  const ends = [
    ...(await records.list({ subjectPrefix: prefix, kind: 'impact-assessment.recorded', limit: 1000 })),
    ...(await records.list({ subjectPrefix: prefix, kind: 'impact-assessment.cancelled', limit: 1000 })),
  ];
  return started.map((r) => {
    const c = r.content as { assessmentRef: string; workflowId: string; trigger: string; changes?: unknown[] };
    const end = ends.find((e) => e.subject === c.workflowId);
    const recorded = end?.kind === 'impact-assessment.recorded' ? (end.content as { level?: number; signOff?: { by?: string }; recordedAt?: string }) : undefined;
    return {
      assessmentRef: c.assessmentRef,
      workflowId: c.workflowId,
      trigger: c.trigger,
      startedAt: r.occurredAt,
      changes: c.changes?.length ?? 0,
      outcome: recorded ? ('recorded' as const) : end ? ('cancelled' as const) : ('open' as const),
      ...(recorded?.level !== undefined ? { level: recorded.level } : {}),
      ...(recorded?.signOff?.by ? { signedOffBy: recorded.signOff.by } : {}),
      ...(recorded?.recordedAt ? { recordedAt: recorded.recordedAt } : {}),
    };
  });
}

export interface AssessmentDetail {
  assessmentId: string;
  workflowId: string;
  /** Absent once Temporal no longer holds the workflow. */
  execution?: ReturnType<typeof executionFacts>;
  /** The live status and timeline, while a worker answers. */
  status?: { state: string; timeline: unknown[] } & Record<string, unknown>;
  /** The content of `impact-assessment.recorded`, once signed off. */
  recorded?: unknown;
  /** Every ledger record of the assessment and of its steps, oldest first. */
  records: CheckedRecord[];
}

/** One assessment; undefined when neither Temporal nor the ledger knows it. */
export async function assessmentDetail(client: Client, records: RecordsStore, systemId: string, assessmentRef: string): Promise<AssessmentDetail | undefined> {
  const workflowId = impactAssessmentWorkflowId(systemId, assessmentRef);
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe().catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  });
  const { records: checked } = await records.check(
    [...(await records.list({ subject: workflowId, limit: 1000 })), ...(await records.list({ subjectPrefix: `${workflowId}/`, limit: 1000 }))].sort((a, b) => a.seq - b.seq),
  );
  if (!description && checked.length === 0) return undefined;
  const status = description ? await handle.query(impactAssessmentStatusQuery).catch(() => undefined) : undefined;
  const recorded = checked.find((r) => r.kind === 'impact-assessment.recorded' && r.subject === workflowId);
  return {
    assessmentId: `${systemId}/${assessmentRef}`,
    workflowId,
    ...(description ? { execution: executionFacts(description) } : {}),
    ...(status ? { status: status as unknown as NonNullable<AssessmentDetail['status']> } : {}),
    ...(recorded ? { recorded: recorded.content } : {}),
    records: checked,
  };
}
