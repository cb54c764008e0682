/**
 * What reaches a running risk assessment: its status query, and the handover of its assessor
 * when they leave or hand their work over (the steps not yet asked go to the new assessor; a
 * running step's task is handed over on its own).
 */
import { setHandler } from '@temporalio/workflow';
import { riskAssessmentStatusQuery } from '../../src/risk/contract.js';
import { onHandover } from '../lib/handover.js';
import { ref } from '../lib/people.js';
import type { RiskAssessment } from './state.js';

export function registerRiskAssessmentHandlers(r: RiskAssessment): void {
  setHandler(riskAssessmentStatusQuery, () => r.status());
  onHandover({
    recorder: r.recorder,
    eventType: 'handover',
    ready: () => r.settings !== undefined,
    state: () => r.state,
    title: () => `Risk assessment ${r.assessmentId}`,
    publish: () => r.publish(),
    holds: (from) => r.state !== 'recorded' && r.state !== 'cancelled' && r.settings.assessor === from,
    move: (_h, to) => {
      r.settings = { ...r.settings, assessor: to.id };
      return Promise.resolve([{ part: 'owner', to: ref(to), what: `the assessor of the risk assessment ${r.assessmentId}` }]);
    },
  });
}
