/**
 * An internal audit programme's handover, for its open audits. The auditee `from` becomes `to`.
 * The lead auditor `from` becomes `to` through the same impartiality check as a change of
 * auditor; when `to` would audit their own work, top management is asked (a task) to name
 * another lead auditor, the conflict is recorded and the AIMS manager is told. Each change goes to
 * the audit's workflow as the programme's other changes do.
 */
import { isCancellation, log } from '@temporalio/workflow';
import type { Handover } from '../../src/common/schemas.js';
import { describeIssues, type TrackedAudit } from '../../src/internal-audit/schema.js';
import { acts } from '../lib/activities.js';
import { runTask } from '../lib/children.js';
import { onHandover, type MovedPart } from '../lib/handover.js';
import { ref, unknownText } from '../lib/people.js';
import { closedAudit, plannedOf, type Programme } from './programme-state.js';
import { reaskStep } from './programme-steps.js';

/** Why `leadAuditor` may not lead `a` (impartiality, or not a known person), in words; empty when they may. */
async function auditorProblems(p: Programme, a: TrackedAudit, leadAuditor: string): Promise<string> {
  const changed = { ...plannedOf(a), leadAuditor };
  const all = p.audits.filter((x) => !x.cancellation).map((x) => (x.auditId === a.auditId ? changed : plannedOf(x)));
  const checked = await acts.validateInternalAuditPlan({ year: p.year, audits: all, checkIds: [a.auditId] });
  return describeIssues(checked.errors.filter((e) => e.field.endsWith('.leadAuditor')));
}

export function registerProgrammeHandover(p: Programme): void {
  const open = (pred: (a: TrackedAudit) => boolean) => p.audits.filter((a) => !closedAudit(a) && !a.cancellation && pred(a));
  const leads = (from: string) => open((a) => a.leadAuditor === from && !p.naming.has(a.auditId));
  const audited = (from: string) => open((a) => a.auditee === from);
  onHandover({
    recorder: p.recorder,
    eventType: 'handover',
    ready: p.ready,
    state: () => p.state,
    title: () => `Internal audit programme ${p.year}`,
    publish: () => p.publish(),
    holds: (from) => p.state !== 'closed' && (leads(from).length > 0 || audited(from).length > 0),
    move: async (h, to) => {
      const moved: MovedPart[] = [];
      for (const a of audited(h.from)) {
        a.auditee = to.id;
        p.changed(a, 'auditee-changed', h.by, `${a.auditId}: auditee ${h.from} → ${to.id}: ${h.reason}`);
        await p.signalAudit(a.auditId, { type: 'auditee', auditee: to.id, reason: h.reason, by: h.by });
        moved.push({ part: 'auditee', to: ref(to), what: `the auditee of audit ${a.auditId}`, mailed: true });
      }
      for (const a of leads(h.from)) {
        const problems = await auditorProblems(p, a, to.id);
        if (!problems) {
          await p.changeAuditor(a, to.id, h.by, h.reason);
          moved.push({ part: 'lead-auditor', to: ref(to), what: `the lead auditor of audit ${a.auditId}`, mailed: true });
          continue;
        }
        moved.push(await conflict(p, a, h, to.name, problems));
      }
      return moved;
    },
  });
}

/** `to` may not lead the audit: top management is asked to name another lead auditor; the AIMS manager is told. */
async function conflict(p: Programme, a: TrackedAudit, h: Handover, toName: string, problems: string): Promise<MovedPart> {
  const people = await acts.resolvePeople([{ role: 'top-management' }, { person: p.aimsManager }]);
  const [top] = people;
  const aimsManager = people.find((x) => x.id === p.aimsManager && !x.unknown);
  const note = `${toName} may not lead it (${problems}): top management names another lead auditor`;
  p.event('auditor-conflict', h.by, `${a.auditId}: ${note}`);
  nameAnotherAuditor(p, a, h, problems);
  return { part: 'lead-auditor', to: ref(top!), what: `naming the lead auditor of audit ${a.auditId} in place of ${h.from}`, note, mailed: true, tell: aimsManager ? [ref(aimsManager)] : [] };
}

/**
 * Top management names another lead auditor in a task; a name that is unknown or conflicts too
 * asks again with the reason. Runs with the audit (cancelled with it) and stops once the audit
 * closes or its auditor was changed otherwise.
 */
function nameAnotherAuditor(p: Programme, a: TrackedAudit, h: Handover, problems: string): void {
  p.namings += 1;
  const base = `name-auditor-${p.namings}`;
  p.naming.set(a.auditId, base);
  const scope = p.scopes.get(a.auditId);
  const name = async () => {
    let feedback = '';
    for (let round = 1; ; round += 1) {
      const task = await runTask(`${base}${round > 1 ? `-${round}` : ''}`, {
        title: `Name another lead auditor for internal audit ${a.auditId} (${p.year})`,
        instructions: `${h.from} led internal audit ${a.auditId} "${a.title}" and handed it over (${h.reason}), but ${h.to} may not lead it: ${problems}.\n\nWrite the person id of the internal auditor who leads it instead (e.g. aisha.khan); they must not audit their own work.${feedback}`,
        clauses: p.clauses,
        process: 'internal-audit-programme',
        assignee: { role: 'top-management' },
        dueAt: new Date(Date.now() + p.approvalDueMs).toISOString(),
        form: 'text',
        requestedBy: 'system',
        policy: p.spec.policy.tasks,
      }, reaskStep(p, `naming the lead auditor of ${a.auditId}`));
      if (task.status !== 'completed' || closedAudit(a) || a.cancellation || a.leadAuditor !== h.from) return;
      const text = typeof task.data?.text === 'string' ? task.data.text : '';
      const named = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
      const problem = /^[a-z0-9][a-z0-9._-]{0,63}$/.test(named)
        ? unknownText(await acts.resolvePeople([{ person: named }])) || (await auditorProblems(p, a, named))
        : `"${named}" is not a person id`;
      if (!problem) {
        await p.changeAuditor(a, named, task.completedBy ?? 'system', `named by top management in place of ${h.from}: ${h.reason}`);
        return;
      }
      feedback = `\n\n${named} could not be taken: ${problem}. Name someone else.`;
    }
  };
  void (scope ? scope.run(name) : name())
    .catch((err: unknown) => {
      if (!isCancellation(err)) log.error('naming another lead auditor failed', { auditId: a.auditId, error: err instanceof Error ? err.message : String(err) });
    })
    .finally(() => p.naming.delete(a.auditId));
}
