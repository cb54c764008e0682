/**
 * A certification cycle's handover: the people it resolved at start (the AIMS manager, who gets
 * the reminders and records outcomes, and top management, who get readiness reports and
 * escalations) are looked up again, so reminders and escalations reach the current holders.
 * Someone the organization file still names in place of `from` is replaced by `to`.
 */
import type { PersonRef } from '../../src/common/schemas.js';
import { acts } from '../lib/activities.js';
import { onHandover, type MovedPart } from '../lib/handover.js';
import { ref } from '../lib/people.js';
import type { Certification } from './state.js';

export function registerCertificationHandover(c: Certification): void {
  const held = (from: string) => !!c.settings && (c.settings.aimsManager.id === from || c.settings.topManagement.some((p) => p.id === from));
  onHandover({
    recorder: c.recorder,
    eventType: 'handover',
    ready: () => c.settings !== undefined,
    state: () => c.state(),
    title: () => `Certificate ${c.spec.certificateId}`,
    publish: () => c.publish(),
    holds: (from) => !c.finished() && held(from),
    move: async (h, to) => {
      const before = c.people();
      const now = await acts.certificationSettings();
      const instead = (p: PersonRef): PersonRef => (p.id === h.from ? ref(to) : p);
      // Only the parts `from` held are looked up again: an earlier handover of someone else stands.
      const wasManager = before.aimsManager.id === h.from;
      const wasTop = before.topManagement.some((p) => p.id === h.from);
      const aimsManager = wasManager ? instead(now.aimsManager) : before.aimsManager;
      let topManagement = wasTop ? now.topManagement.map(instead).filter((p, i, all) => all.findIndex((o) => o.id === p.id) === i) : before.topManagement;
      // The file names nobody new in top management: `to` takes the place of `from`.
      if (wasTop && !topManagement.some((p) => !before.topManagement.some((b) => b.id === p.id))) topManagement = [...topManagement.filter((p) => p.id !== to.id), ref(to)];
      c.settings = { ...before, people: now.people, aimsManager, topManagement };
      const moved: MovedPart[] = [];
      if (wasManager) {
        moved.push({ part: 'aims-manager', to: aimsManager, what: 'the AIMS manager of the certification cycle (reminders, outcomes, readiness)', ...(aimsManager.id !== to.id ? { note: 'the AIMS manager role’s holder takes it' } : {}) });
      }
      if (wasTop) {
        const added = topManagement.filter((p) => !before.topManagement.some((b) => b.id === p.id));
        for (const p of added) moved.push({ part: 'top-management', to: p, what: 'top management of the certification cycle (readiness reports, escalations)' });
      }
      return moved;
    },
  });
}
