/**
 * A reported concern while it is triaged: what it publishes, what the ledger keeps (never the
 * reporter's name or address), the triage task, and the three ways a triage ends.
 */
import { ActivityFailure, workflowInfo } from '@temporalio/workflow';
import type { ConcernResult, ConcernSpec } from '../../src/concern/schema.js';
import type { Severity } from '../../src/corrective-action/nc-id.js';
import type { TriageDecision } from '../../src/forms/index.js';
import type { HumanTaskInput } from '../../src/task/schema.js';
import { concernTriage } from '../../src/people/duties.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts, bestEffort, mail } from '../lib/activities.js';
import { raiseNonconformity, type Reask } from '../lib/children.js';
import { unknownText } from '../lib/people.js';
import { Recorder } from '../lib/recorder.js';
import { formatDay } from '../lib/util.js';

export const CONCERN_CLAUSES = ['A.3.3'];

export interface Triage {
  decision: TriageDecision;
  severity?: Severity;
  owner?: string;
  ncId?: string;
  note?: string;
}

/** A triage that could not be carried out, and what the next round is told. */
export interface AskAgain {
  again: string;
}

export class Concern {
  readonly concernId = workflowInfo().workflowId;
  readonly summary: string;
  state: 'triage' | TriageDecision | 'cancelled' = 'triage';
  readonly recorder: Recorder;

  constructor(readonly spec: ConcernSpec) {
    const firstLine = spec.description.split('\n', 1)[0]?.trim() ?? '';
    this.summary = firstLine.length > 120 ? `${firstLine.slice(0, 117)}...` : firstLine;
    this.recorder = new Recorder({
      view: () => ({
        attributes: [
          { key: searchAttributes.process, value: 'concern' },
          { key: searchAttributes.ref, value: this.concernId },
          { key: searchAttributes.state, value: this.state },
          { key: searchAttributes.clauses, value: CONCERN_CLAUSES },
          ...(spec.aiSystem ? [{ key: searchAttributes.aiSystem, value: spec.aiSystem }] : []),
        ],
        memo: { kind: 'concern', title: this.summary, state: this.state },
        details: `**Concern** · ${this.state} · ${this.summary}${spec.aiSystem ? ` · ${spec.aiSystem}` : ''}`,
      }),
      clauses: CONCERN_CLAUSES,
      // The reporter's name and e-mail stay out of the append-only ledger; only whether they left them.
      identity: () => ({
        concernId: this.concernId,
        reportedAt: spec.reportedAt,
        aiSystem: spec.aiSystem ?? null,
        reporterIdentified: spec.reporterName !== undefined || spec.reporterEmail !== undefined,
      }),
    });
  }

  /** The triage task of one round, for the AIMS manager (top management when the concern is about the AIMS manager). */
  triageTask(feedback: string, dueMs: number, aimsManagerId: string | undefined): HumanTaskInput {
    const { spec } = this;
    const triage = concernTriage({ aimsManager: aimsManagerId ?? '', aboutAimsManager: spec.aboutAimsManager === true && aimsManagerId !== undefined });
    const reporter = spec.reporterName ?? (spec.reporterEmail ? spec.reporterEmail : 'someone who stayed anonymous');
    return {
      title: `Triage a reported concern: ${this.summary}`.slice(0, 200),
      instructions: [
        `A concern was reported on ${formatDay(Date.parse(spec.reportedAt))} by ${reporter}${spec.aiSystem ? ` about the AI system ${spec.aiSystem}` : ''}. Reference: ${this.concernId}.`,
        ...(spec.aboutAimsManager ? ['The reporter says the concern is about the AIMS manager: top management triages it, and the AIMS manager may not take the task.'] : []),
        spec.description,
        'Decide: accept it as a nonconformity (choose its severity and, if not you, its owner), reject it (the note is the reason the reporter is told, when they left an e-mail address), or merge it into an open nonconformity (give its id).',
        ...(feedback ? [feedback] : []),
      ].join('\n\n'),
      clauses: CONCERN_CLAUSES,
      process: 'concern',
      ...(spec.aiSystem ? { aiSystem: spec.aiSystem } : {}),
      assignee: triage.assignee,
      dueAt: new Date(Date.now() + dueMs).toISOString(),
      form: 'triage',
      requestedBy: 'system',
      policy: spec.policy.tasks,
      ...(triage.conflicts.length ? { conflicts: triage.conflicts } : {}),
    };
  }

  /** A triage task that fails is asked again; each failure is on the timeline and in the ledger. */
  reask(): Reask {
    return {
      onFailed: async (f) => {
        this.recorder.event('step-failed', 'system', `the triage task ${f.reason}; ${f.next ? 'asked again' : `failed ${f.failures} times, given up`}`, { workflowId: f.workflowId });
        await this.recorder.append('concern.step-failed', 'system', { step: f.key, workflowId: f.workflowId, reason: f.reason, failures: f.failures, askedAgain: f.next !== undefined });
      },
    };
  }

  /** The outcome: published, recorded, returned. */
  async finish(by: string, outcome: ConcernResult['outcome'], extra: { ncId?: string; note?: string; reporterTold?: boolean }): Promise<ConcernResult> {
    this.state = outcome;
    this.recorder.publish();
    await this.recorder.append(
      'concern.triaged',
      by,
      { description: this.spec.description, outcome, ncId: extra.ncId ?? null, note: extra.note ?? null, reporterTold: extra.reporterTold ?? false },
      'triaged',
    );
    return { concernId: this.concernId, outcome, by, ...(extra.ncId ? { ncId: extra.ncId } : {}), ...(extra.note ? { note: extra.note } : {}) };
  }

  /** Accept: a nonconformity with source `concern`, owned by the triager or the owner they named. */
  async accept(by: string, triage: Triage): Promise<ConcernResult | AskAgain> {
    const owner = triage.owner ?? by;
    try {
      const unknown = unknownText(await acts.resolvePeople([{ person: owner }]));
      if (unknown) return { again: `The previous decision could not be carried out: the owner ${owner} is not in the organization (${unknown}).` };
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      return { again: `The previous decision could not be carried out: the owner ${owner} is not in the organization (${err.cause?.message ?? err.message}).` };
    }
    const { spec } = this;
    const nc = await raiseNonconformity('nc', {
      title: `Concern: ${this.summary}`.slice(0, 200),
      description: spec.description,
      severity: triage.severity ?? 'minor',
      source: 'concern',
      sourceRef: this.concernId,
      clauses: CONCERN_CLAUSES,
      ...(spec.aiSystem ? { aiSystem: spec.aiSystem } : {}),
      owner,
      raisedBy: by,
      raisedAt: new Date().toISOString(),
    });
    return this.finish(by, 'accept', { ncId: nc.ncId, ...(triage.note ? { note: triage.note } : {}) });
  }

  /** Merge into an open nonconformity; one that refuses asks the triage again. */
  async merge(by: string, ncId: string, triage: Triage, aimsManagerId: string | undefined): Promise<ConcernResult | AskAgain> {
    const merged = await acts.mergeConcernIntoNc({
      ncId,
      by: by === aimsManagerId ? by : 'system',
      concernId: this.concernId,
      summary: this.spec.description,
      ...(triage.note ? { note: triage.note } : {}),
    });
    if (!merged.ok) return { again: `The concern could not be merged into ${ncId}: ${merged.reason}. Choose again.` };
    return this.finish(by, 'merge', { ncId, ...(triage.note ? { note: triage.note } : {}) });
  }

  /** Reject: the reporter, when they left an address, is told the reason. */
  async reject(by: string, triage: Triage): Promise<ConcernResult> {
    const { spec } = this;
    const reason = triage.note ?? '';
    const email = spec.reporterEmail;
    const reporterTold =
      email !== undefined &&
      (await bestEffort(
        'the reporter could not be told',
        () =>
          mail.notifyConcernRejected({
            notificationId: this.recorder.notificationId('rejected'),
            reporter: { name: spec.reporterName, email },
            title: this.summary,
            reference: this.concernId,
            reportedAt: spec.reportedAt,
            reason,
          }),
        { concernId: this.concernId },
      ));
    return this.finish(by, 'reject', { note: reason, reporterTold });
  }
}
