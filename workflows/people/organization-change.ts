/**
 * Organization change (ISO/IEC 42001 5.3, 7.2): when people leave, when an AI system changes
 * hands, or when a person's work is handed over on purpose, every running workflow they hold a
 * part in gets a handover update. Each workflow moves the part by its own rules (a role's new
 * holder; top management where separation of duties forbids the person named) and records it.
 * The outcome of every handover, moved or not and why, goes to the ledger and to the AIMS
 * manager.
 */
import { sleep, workflowInfo } from '@temporalio/workflow';
import { ORGANIZATION_SETTLE_MS, type HandoverOutcome, type OrganizationChangeInput, type OrganizationChangeResult } from '../../src/people/contract.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts } from '../lib/activities.js';
import { Recorder } from '../lib/recorder.js';

const CLAUSES = ['5.3', '7.2'];

export async function organizationChange(input: OrganizationChangeInput): Promise<OrganizationChangeResult> {
  const outcomes: HandoverOutcome[] = [];
  let state = 'handing-over';
  const moved = () => outcomes.filter((o) => o.moved).length;
  const recorder = new Recorder({
    view: () => ({
      attributes: [
        { key: searchAttributes.process, value: 'organization-change' },
        { key: searchAttributes.ref, value: input.ref },
        { key: searchAttributes.state, value: state },
        { key: searchAttributes.clauses, value: CLAUSES },
      ],
      memo: { kind: 'organization-change', title: input.reason, state },
      details: `**Organization change** ${input.ref} · ${state} · ${input.moves.length} person(s) · ${moved()} of ${outcomes.length} handed over · ${input.reason}`,
    }),
    clauses: CLAUSES,
    identity: () => ({ ref: input.ref, workflowId: workflowInfo().workflowId }),
  });
  recorder.publish();
  // Every process reads the new organization version before anyone is looked up in it.
  await sleep(ORGANIZATION_SETTLE_MS);

  // Each person's running work, found when the change runs, handed over part by part.
  for (const move of input.moves) {
    const planned = await acts.planHandovers({ move });
    for (const { item, to } of planned) {
      outcomes.push(await acts.sendHandover({ item, handover: { by: input.by, from: move.from, to, reason: move.reason, ref: input.ref } }));
      recorder.publish();
    }
  }

  state = 'done';
  recorder.publish();
  await recorder.append('organization.handed-over', input.by, { reason: input.reason, moves: input.moves, outcomes }, 'summary');
  const [aimsManager] = await acts.resolvePeople([{ role: 'aims-manager' }]);
  if (aimsManager) {
    await recorder.notify({
      kind: 'organization.handover-summary',
      to: [aimsManager],
      data: {
        title: `Organization change: ${input.reason}`.slice(0, 200),
        clauses: CLAUSES,
        movedLines: outcomes.filter((o) => o.moved).map((o) => `${o.title} (${o.workflowId}): ${o.parts.map((p) => `${p.part} to ${p.to}`).join(', ') || `to ${o.to}`}`),
        notMovedLines: outcomes.filter((o) => !o.moved).map((o) => `${o.title} (${o.workflowId}): ${o.reason ?? 'nothing held'}`),
      },
    });
  }
  return { ref: input.ref, outcomes };
}
