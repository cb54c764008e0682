/**
 * A nonconformity's handover: the owner `from` gives the corrective action to `to` (its later
 * steps and escalations go to them); the AIMS manager's part (permissions, plan approval) goes to
 * whoever holds the role now (`to` while the file still names `from`); an action `from` owns
 * that is not done yet is recorded under `to`, and is asked of them should it be asked again.
 * A step's running task is a task: it gets its own handover.
 */
import { acts } from '../lib/activities.js';
import { onHandover, type MovedPart } from '../lib/handover.js';
import { ref } from '../lib/people.js';
import type { Nonconformity } from './state.js';

export function registerNonconformityHandover(nc: Nonconformity): void {
  const openActions = (id: string) => nc.actions.filter((a) => !a.done && a.owner === id);
  onHandover({
    recorder: nc.recorder,
    eventType: 'handover',
    ready: () => nc.aimsManagerId !== undefined,
    state: () => nc.state,
    title: () => `${nc.ncId}: ${nc.spec.title}`,
    publish: () => nc.publish(),
    holds: (from) => !nc.isClosed() && (nc.owner === from || nc.aimsManagerId === from || openActions(from).length > 0),
    move: async (h, to) => {
      const moved: MovedPart[] = [];
      const actions = openActions(h.from);
      if (nc.owner === h.from) {
        nc.owner = to.id;
        moved.push({ part: 'owner', to: ref(to), what: `the owner of ${nc.ncId}` });
      }
      if (nc.aimsManagerId === h.from) {
        const [holder] = await acts.resolvePeople([{ role: 'aims-manager' }]);
        const next = holder && !holder.unknown && !holder.insteadOf && holder.id !== h.from ? holder : to;
        nc.aimsManagerId = next.id;
        moved.push({ part: 'aims-manager', to: ref(next), what: `the AIMS manager of ${nc.ncId}`, ...(next.id !== to.id ? { note: 'the AIMS manager role’s holder takes it' } : {}) });
      }
      for (const a of actions) {
        a.owner = to.id;
        const n = nc.actions.indexOf(a) + 1;
        moved.push({ part: 'action-owner', to: ref(to), what: `the owner of action ${n} of ${nc.ncId} (${a.description.slice(0, 80)})` });
      }
      return moved;
    },
  });
}
