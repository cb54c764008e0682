/**
 * A reported concern (ISO/IEC 42001 Annex A.3.3), one workflow per report, id
 * `concern/<yyyy>/<short-random>`: the AIMS manager triages it in a human task and accepts it
 * (a nonconformity is raised with source `concern`), rejects it (the reporter, when they left
 * an e-mail address, is told the reason) or merges it into an open nonconformity. A merge the
 * nonconformity refuses, or an owner who is not in the organization, asks the triage again
 * with the reason. The report and the outcome go to the ledger.
 */
import { ActivityFailure, log, setCurrentDetails, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { concernInputSchema, DEFAULT_TRIAGE_DUE, type ConcernInput, type ConcernResult } from '../../src/concern/schema.js';
import { durationMs } from '../../src/common/duration.js';
import type { Severity } from '../../src/corrective-action/nc-id.js';
import type { TriageDecision } from '../../src/forms/index.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts, mail } from '../lib/activities.js';
import { raiseNonconformity, runTask } from '../lib/children.js';
import { formatDay, parseOrThrow } from '../lib/util.js';

const CLAUSES = ['A.3.3'];

interface Triage {
  decision: TriageDecision;
  severity?: Severity;
  owner?: string;
  ncId?: string;
  note?: string;
}

export async function concern(rawInput: ConcernInput): Promise<ConcernResult> {
  const spec = parseOrThrow(concernInputSchema, rawInput, 'concern');
  const info = workflowInfo();
  const concernId = info.workflowId;
  const firstLine = spec.description.split('\n', 1)[0]?.trim() ?? '';
  const summary = firstLine.length > 120 ? `${firstLine.slice(0, 117)}...` : firstLine;
  const reporter = spec.reporterName ?? (spec.reporterEmail ? spec.reporterEmail : 'someone who stayed anonymous');
  let state: 'triage' | TriageDecision | 'cancelled' = 'triage';

  const publish = () => {
    upsertSearchAttributes([
      { key: searchAttributes.process, value: 'concern' },
      { key: searchAttributes.ref, value: concernId },
      { key: searchAttributes.state, value: state },
      { key: searchAttributes.clauses, value: CLAUSES },
      ...(spec.aiSystem ? [{ key: searchAttributes.aiSystem, value: spec.aiSystem }] : []),
    ]);
    upsertMemo({ kind: 'concern', title: summary, state });
    setCurrentDetails(`**Concern** · ${state} · ${summary}${spec.aiSystem ? ` · ${spec.aiSystem}` : ''}`);
  };

  const ledger = (kind: string, actor: string, key: string, content: Record<string, unknown>) =>
    acts.appendRecord({
      id: `${concernId}/${info.firstExecutionRunId}/${key}`,
      kind,
      subject: concernId,
      clauses: CLAUSES,
      actor,
      occurredAt: new Date().toISOString(),
      // The reporter's name and e-mail stay out of the append-only ledger; only whether they left them.
      content: { concernId, reportedAt: spec.reportedAt, aiSystem: spec.aiSystem ?? null, reporterIdentified: spec.reporterName !== undefined || spec.reporterEmail !== undefined, ...content },
    });

  publish();
  await ledger('concern.reported', 'system', 'reported', { description: spec.description });
  const [aimsManager] = await acts.resolvePeople([{ role: 'aims-manager' }]);
  const triageDueMs = durationMs(spec.policy.triageDue ?? DEFAULT_TRIAGE_DUE);

  const finish = async (by: string, outcome: ConcernResult['outcome'], extra: { ncId?: string; note?: string; reporterTold?: boolean }) => {
    state = outcome;
    publish();
    await ledger('concern.triaged', by, 'triaged', { description: spec.description, outcome, ncId: extra.ncId ?? null, note: extra.note ?? null, reporterTold: extra.reporterTold ?? false });
    return { concernId, outcome, by, ...(extra.ncId ? { ncId: extra.ncId } : {}), ...(extra.note ? { note: extra.note } : {}) };
  };

  let feedback = '';
  for (let round = 1; ; round += 1) {
    const task = await runTask(`triage-${round}`, {
      title: `Triage a reported concern: ${summary}`.slice(0, 200),
      instructions: [
        `A concern was reported on ${formatDay(Date.parse(spec.reportedAt))} by ${reporter}${spec.aiSystem ? ` about the AI system ${spec.aiSystem}` : ''}. Reference: ${concernId}.`,
        spec.description,
        'Decide: accept it as a nonconformity (choose its severity and, if not you, its owner), reject it (the note is the reason the reporter is told, when they left an e-mail address), or merge it into an open nonconformity (give its id).',
        ...(feedback ? [feedback] : []),
      ].join('\n\n'),
      clauses: CLAUSES,
      process: 'concern',
      ...(spec.aiSystem ? { aiSystem: spec.aiSystem } : {}),
      assignee: { role: 'aims-manager' },
      dueAt: new Date(Date.now() + triageDueMs).toISOString(),
      form: 'triage',
      requestedBy: 'system',
      policy: spec.policy.tasks,
    });
    if (task.status !== 'completed') {
      const c = task.cancellation;
      return finish(c?.by ?? 'system', 'cancelled', c ? { note: c.reason } : {});
    }
    const by = task.completedBy ?? 'system';
    const triage = (task.data ?? {}) as unknown as Triage;

    if (triage.decision === 'accept') {
      const owner = triage.owner ?? by;
      try {
        await acts.resolvePeople([{ person: owner }]);
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        feedback = `The previous decision could not be carried out: the owner ${owner} is not in the organization (${err.cause?.message ?? err.message}).`;
        continue;
      }
      const nc = await raiseNonconformity('nc', {
        title: `Concern: ${summary}`.slice(0, 200),
        description: spec.description,
        severity: triage.severity ?? 'minor',
        source: 'concern',
        sourceRef: concernId,
        clauses: CLAUSES,
        ...(spec.aiSystem ? { aiSystem: spec.aiSystem } : {}),
        owner,
        raisedBy: by,
        raisedAt: new Date().toISOString(),
      });
      return finish(by, 'accept', { ncId: nc.ncId, ...(triage.note ? { note: triage.note } : {}) });
    }

    if (triage.decision === 'merge' && triage.ncId) {
      const merged = await acts.mergeConcernIntoNc({
        ncId: triage.ncId,
        by: by === aimsManager?.id ? by : 'system',
        concernId,
        summary: spec.description,
        ...(triage.note ? { note: triage.note } : {}),
      });
      if (!merged.ok) {
        feedback = `The concern could not be merged into ${triage.ncId}: ${merged.reason}. Choose again.`;
        continue;
      }
      return finish(by, 'merge', { ncId: triage.ncId, ...(triage.note ? { note: triage.note } : {}) });
    }

    const reason = triage.note ?? '';
    let reporterTold = false;
    if (spec.reporterEmail) {
      try {
        await mail.notifyConcernRejected({
          notificationId: `${concernId}/${info.firstExecutionRunId}/rejected`,
          reporter: { name: spec.reporterName, email: spec.reporterEmail },
          title: summary,
          reference: concernId,
          reportedAt: spec.reportedAt,
          reason,
        });
        reporterTold = true;
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        log.error('the reporter could not be told', { concernId, error: err.cause?.message ?? err.message });
      }
    }
    return finish(by, 'reject', { note: reason, reporterTold });
  }
}
