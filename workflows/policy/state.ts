/**
 * A review of the AI policy (5.2, A.2.4) and the acknowledgements of the version it approves
 * (7.3): the setup from the organization file, the outcome, the new version and each person's
 * acknowledgement, and what it publishes.
 */
import { workflowInfo } from '@temporalio/workflow';
import { POLICY_CLAUSES, type Acknowledgement, type PolicyReviewSpec, type PolicyReviewState, type PolicyReviewStatus, type PolicySetup } from '../../src/policy/schema.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { Recorder } from '../lib/recorder.js';

type EventType = 'started' | 'reviewed' | 'drafted' | 'approval-requested' | 'approved' | 'rejected' | 'acknowledgements-requested' | 'acknowledged' | 'ended';

export class PolicyReview {
  readonly workflowId = workflowInfo().workflowId;
  state: PolicyReviewState = 'reviewing';
  setup: PolicySetup | undefined;
  outcome: PolicyReviewStatus['outcome'];
  newVersion: PolicyReviewStatus['newVersion'];
  readonly acknowledgements: Acknowledgement[] = [];
  readonly recorder: Recorder<EventType>;

  constructor(readonly spec: PolicyReviewSpec) {
    this.recorder = new Recorder<EventType>({
      view: () => this.view(),
      clauses: POLICY_CLAUSES,
      identity: () => ({ reviewRef: spec.reviewRef }),
    });
  }

  event(type: EventType, by: string, detail: string, workflowId?: string): void {
    this.recorder.event(type, by, detail, { workflowId });
  }

  publish(): void {
    this.recorder.publish();
  }

  rate(): number | null {
    if (this.acknowledgements.length === 0) return null;
    return this.acknowledgements.filter((a) => a.state === 'acknowledged').length / this.acknowledgements.length;
  }

  status(): PolicyReviewStatus {
    const current = this.setup?.current;
    return {
      reviewRef: this.spec.reviewRef,
      workflowId: this.workflowId,
      trigger: this.spec.trigger,
      state: this.state,
      owner: this.setup?.ownerId ?? '',
      current: current ? { version: current.version, contentHash: current.contentHash } : null,
      ...(this.outcome ? { outcome: this.outcome } : {}),
      ...(this.newVersion ? { newVersion: this.newVersion } : {}),
      acknowledgements: this.acknowledgements,
      acknowledgementRate: this.rate(),
      history: this.recorder.timeline,
    };
  }

  private view() {
    const open = this.acknowledgements.filter((a) => a.state === 'open').map((a) => a.person);
    const rate = this.rate();
    return {
      attributes: [
        { key: searchAttributes.process, value: 'ai-policy' },
        { key: searchAttributes.ref, value: this.spec.reviewRef },
        { key: searchAttributes.state, value: this.state },
        { key: searchAttributes.clauses, value: [...POLICY_CLAUSES, '7.3'] },
        ...(this.setup ? [{ key: searchAttributes.owner, value: this.setup.ownerId }] : []),
        ...(open.length ? [{ key: searchAttributes.assignees, value: open.slice(0, 100) }] : []),
      ],
      memo: { kind: 'policy-review', reviewRef: this.spec.reviewRef, state: this.state, outcome: this.outcome ?? null, version: this.newVersion?.version ?? null },
      details: [
        `**AI policy review ${this.spec.reviewRef}** (${this.spec.trigger}) · ${this.state}`,
        ...(this.newVersion ? [`version ${this.newVersion.version}`] : []),
        ...(rate !== null ? [`acknowledged ${Math.round(rate * 100)} %`] : []),
      ].join(' · '),
    };
  }
}
