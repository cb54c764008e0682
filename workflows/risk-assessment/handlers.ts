/** What reaches a running risk assessment: its status query. */
import { setHandler } from '@temporalio/workflow';
import { riskAssessmentStatusQuery } from '../../src/risk/contract.js';
import type { RiskAssessment } from './state.js';

export function registerRiskAssessmentHandlers(r: RiskAssessment): void {
  setHandler(riskAssessmentStatusQuery, () => r.status());
}
