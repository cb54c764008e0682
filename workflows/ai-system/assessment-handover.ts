/**
 * An impact assessment's handover: the system owner `from` hands their part to `to`, so the
 * assessment's next steps (another round, the risk treatments) go to them. A step's running task
 * is a task and gets its own handover.
 */
import { onHandover } from '../lib/handover.js';
import { ref } from '../lib/people.js';
import type { ImpactAssessment } from './assessment-state.js';

export function registerImpactAssessmentHandover(a: ImpactAssessment): void {
  onHandover({
    recorder: a.recorder,
    eventType: 'handover',
    ready: () => true,
    state: () => a.state,
    title: () => `${a.system.name}: impact assessment ${a.spec.assessmentRef}`,
    publish: () => a.publish(),
    holds: (from) => !a.isClosed() && a.system.owner === from,
    move: (_h, to) => {
      a.system = { ...a.system, owner: to.id };
      return Promise.resolve([{ part: 'owner', to: ref(to), what: `the system owner in the impact assessment ${a.assessmentId}` }]);
    },
  });
}
