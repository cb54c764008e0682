/**
 * An internal audit's handover. Under a programme, the programme hands over its audits' lead
 * auditors and auditees (it checks impartiality against the whole programme and passes the change
 * on), so the audit answers that the handover belongs there. A standalone audit moves them itself:
 * the auditee `from` becomes `to`; the lead auditor `from` becomes `to` only if `to` passes the
 * impartiality check of a change of auditor, and a conflict is refused naming the rule (top
 * management names another auditor). The change applies as a programme's change would.
 */
import { workflowInfo } from '@temporalio/workflow';
import { describeIssues } from '../../src/internal-audit/schema.js';
import { acts } from '../lib/activities.js';
import { onHandover, type MovedPart } from '../lib/handover.js';
import { ref } from '../lib/people.js';
import { reject } from '../lib/util.js';
import type { Audit } from './audit-state.js';

export function registerAuditHandover(a: Audit): void {
  const parent = workflowInfo().parent;
  const pending = (type: 'auditor' | 'auditee') => a.pendingChanges.some((c) => c.type === type);
  onHandover({
    recorder: a.recorder,
    eventType: 'handover',
    ready: () => a.settings !== undefined,
    state: () => a.state,
    title: () => `${a.audit.auditId}: ${a.audit.title}`,
    publish: () => a.publish(),
    elsewhere: (from) =>
      parent && (a.leadAuditor === from || a.auditee === from) ? `${from}'s part in audit ${a.audit.auditId} is handed over by its programme ${parent.workflowId}.` : undefined,
    holds: (from) => !parent && !a.isClosed() && ((a.leadAuditor === from && !pending('auditor')) || (a.auditee === from && !pending('auditee'))),
    move: async (h, to) => {
      const moved: MovedPart[] = [];
      const { auditId } = a.audit;
      if (a.leadAuditor === h.from) {
        const changed = { ...a.audit, window: a.window, leadAuditor: to.id, auditee: a.auditee };
        const checked = await acts.validateInternalAuditPlan({ year: a.spec.year, audits: [changed], checkIds: [auditId] });
        const conflicts = checked.errors.filter((e) => e.field.endsWith('.leadAuditor'));
        if (conflicts.length) reject(`${to.name} may not lead audit ${auditId}: ${describeIssues(conflicts)}; top management names another lead auditor`);
        a.pendingChanges.push({ type: 'auditor', leadAuditor: to.id, reason: h.reason, by: h.by });
        moved.push({ part: 'lead-auditor', to: ref(to), what: `the lead auditor of audit ${auditId}`, mailed: true });
      }
      if (a.auditee === h.from) {
        a.pendingChanges.push({ type: 'auditee', auditee: to.id, reason: h.reason, by: h.by });
        moved.push({ part: 'auditee', to: ref(to), what: `the auditee of audit ${auditId}`, mailed: true });
      }
      return moved;
    },
  });
}
