/**
 * What reaches a running impact assessment: the status query, and the changes its AI system's
 * workflow attaches while it runs.
 */
import { setHandler } from '@temporalio/workflow';
import { attachChangeSignal, impactAssessmentStatusQuery } from '../../src/ai-system/contract.js';
import { registerImpactAssessmentHandover } from './assessment-handover.js';
import type { ImpactAssessment } from './assessment-state.js';

export function registerImpactAssessmentHandlers(a: ImpactAssessment): void {
  setHandler(impactAssessmentStatusQuery, () => a.status());
  setHandler(attachChangeSignal, (change) => {
    if (!a.isClosed()) a.attach(change);
  });
  registerImpactAssessmentHandover(a);
}
