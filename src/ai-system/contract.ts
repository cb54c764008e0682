/**
 * Messages of the AI system and impact-assessment workflows (signals, updates, queries),
 * shared by the workflows, the API and tests. Workflow-safe.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AiSystemInput, AiSystemResult, AiSystemStatus, Retire, UpdateRegistration } from './schema.js';
import type { ImpactAssessmentInput, ImpactAssessmentResult, ImpactAssessmentStatus, SignificantChange, SignificantChangeInput } from './impact-assessment.js';
import type { UpdateAck } from '../common/messages.js';

export const AI_SYSTEM_WORKFLOW = 'aiSystem';
export const IMPACT_ASSESSMENT_WORKFLOW = 'impactAssessment';
export type AiSystemWorkflow = (input: AiSystemInput) => Promise<AiSystemResult>;
export type ImpactAssessmentWorkflow = (input: ImpactAssessmentInput) => Promise<ImpactAssessmentResult>;

/** `ai-system/credit-scoring`. */
export function aiSystemWorkflowId(systemId: string): string {
  return `ai-system/${systemId}`;
}

/** The common prefix of a system's assessment ids, `impact-assessment/credit-scoring/`. */
export function impactAssessmentsOf(systemId: string): string {
  return `impact-assessment/${systemId}/`;
}

/** `impact-assessment/credit-scoring/2027-1`. */
export function impactAssessmentWorkflowId(systemId: string, assessmentRef: string): string {
  return `${impactAssessmentsOf(systemId)}${assessmentRef}`;
}

/** What happened to an announced change. */
export interface ChangeAck extends UpdateAck {
  /** `pending`: waits for the debounce window; `attached`: added to the running assessment. */
  disposition: 'pending' | 'attached';
  /** The running assessment it was attached to. */
  assessmentId?: string;
  /** When the reassessment it leads to starts. */
  startsAt?: string;
}

// AI system (long-lived)
export const aiSystemStatusQuery = defineQuery<AiSystemStatus>('aiSystemStatus');
/** Fire-and-forget announcement of a significant change. */
export const significantChangeSignal = defineSignal<[SignificantChangeInput]>('significantChange');
/** The same announcement, answered with what happened to it. */
export const announceChangeUpdate = defineUpdate<ChangeAck, [SignificantChangeInput]>('announceChange');
export const updateRegistrationUpdate = defineUpdate<UpdateAck, [UpdateRegistration]>('updateRegistration');
export const retireUpdate = defineUpdate<UpdateAck, [Retire]>('retire');

// Impact assessment (one per run)
export const impactAssessmentStatusQuery = defineQuery<ImpactAssessmentStatus>('impactAssessmentStatus');
/** A change announced while the assessment runs, attached to it by the AI system's workflow. */
export const attachChangeSignal = defineSignal<[SignificantChange]>('attachChange');
