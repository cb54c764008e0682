/**
 * An AI system's handover: the owner `from` gives the system to `to`, as a registration change
 * (recorded as `ai-system.updated`, like one made through the admin API). The next assessment
 * is the new owner's; a running assessment answers its own handover.
 */
import { onHandover } from '../lib/handover.js';
import { ref } from '../lib/people.js';
import type { AiSystem } from './system-state.js';

export function registerAiSystemHandover(s: AiSystem): void {
  onHandover({
    recorder: s.recorder,
    eventType: 'handover',
    ready: () => s.ready,
    state: () => s.state(),
    title: () => `${s.system.name} (${s.systemId})`,
    publish: () => s.publish(),
    holds: (from) => !s.retired && !s.retiring && s.system.owner === from,
    move: async (h, to) => {
      const before = s.system;
      s.system = { ...before, owner: to.id };
      await s.recorder.append('ai-system.updated', h.by, { before, after: s.system, changes: { owner: to.id }, reason: `handed over from ${h.from}: ${h.reason}` });
      return [{ part: 'owner', to: ref(to), what: `the owner of the AI system ${s.systemId}` }];
    },
  });
}
