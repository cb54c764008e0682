/**
 * Messages of the risk assessment workflow and its ids, shared by the workflow, the API and
 * tests. Workflow-safe.
 */
import { defineQuery } from '@temporalio/workflow';
import type { RiskAssessmentInput, RiskAssessmentResult, RiskAssessmentStatus } from './schema.js';

export const RISK_ASSESSMENT_WORKFLOW = 'riskAssessment';
export type RiskAssessmentWorkflow = (input: RiskAssessmentInput) => Promise<RiskAssessmentResult>;

/** The common prefix of a scope's assessments, `risk-assessment/credit-scoring/`. */
export function riskAssessmentsOf(scope: string): string {
  return `risk-assessment/${scope}/`;
}

/** `risk-assessment/credit-scoring/2027-1`, `risk-assessment/aims/2027-1`. */
export function riskAssessmentWorkflowId(scope: string, assessmentRef: string): string {
  return `${riskAssessmentsOf(scope)}${assessmentRef}`;
}

/** The sequence scope assessment numbers are allocated in (records store), per scope and year. */
export function riskAssessmentSequence(scope: string, year: number): string {
  return `risk-assessment/${scope}/${year}`;
}

export const riskAssessmentStatusQuery = defineQuery<RiskAssessmentStatus>('riskAssessmentStatus');
