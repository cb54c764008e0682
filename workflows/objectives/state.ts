/**
 * An objective's state in its long-lived measurement workflow (6.2, 9.1): the definition, the
 * series of measurements with their evaluation, the next measurement, the corrective-action
 * offers, and what it publishes (status query, search attributes, memo, summary line) and
 * carries into its next run.
 */
import { workflowInfo, type CancellationScope } from '@temporalio/workflow';
import { durationMs } from '../../src/common/duration.js';
import {
  OBJECTIVE_CLAUSES,
  type Measurement,
  type ObjectiveCarried,
  type ObjectiveDefinition,
  type ObjectiveInput,
  type ObjectiveSpec,
  type ObjectiveState,
  type ObjectiveStatus,
  type RetireObjective,
} from '../../src/objectives/schema.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { Recorder } from '../lib/recorder.js';
import { formatDay, reject } from '../lib/util.js';

export type ObjectiveEventType =
  | 'registered'
  | 'measurement-requested'
  | 'measured'
  | 'measurement-not-taken'
  | 'at-risk-notice'
  | 'nc-offered'
  | 'nc-raised'
  | 'nc-declined'
  | 'changed'
  | 'continued-as-new'
  | 'retired';

/** Measurements kept in the series (the ledger keeps them all). */
const SERIES_KEPT = 100;
const HISTORY_KEPT = 60;
const DEFAULT_CONTINUE_AS_NEW_AFTER = 20;

export class Objective {
  readonly workflowId = workflowInfo().workflowId;
  readonly objectiveId: string;
  readonly registeredAt: string;
  readonly runs: number;
  definition: ObjectiveDefinition;
  nextAtMs: number;
  readonly series: Measurement[];
  measured: number;
  offers: number;
  readonly ncs: string[];
  current: { n: number; taskId: string; dueAt: string } | undefined;
  currentScope: CancellationScope | undefined;
  /** Offers of a corrective action still open (they run beside the measurements). */
  readonly openOffers = new Set<Promise<void>>();
  retiring: RetireObjective | undefined;
  retired: ObjectiveStatus['retired'];
  ready = false;
  /** Bumped by messages that change the plan, to wake the wait for the next measurement. */
  wake = 0;
  measuredThisRun = 0;
  readonly recorder: Recorder<ObjectiveEventType>;

  constructor(readonly spec: ObjectiveSpec) {
    const carried = spec.carried;
    this.objectiveId = spec.objectiveId;
    this.definition = carried?.definition ?? spec.definition;
    this.registeredAt = carried?.registeredAt ?? new Date().toISOString();
    const firstIn = spec.policy.firstIn ? durationMs(spec.policy.firstIn) : this.everyMs();
    this.nextAtMs = carried ? Date.parse(carried.nextAt) : Date.now() + firstIn;
    this.series = [...(carried?.series ?? [])];
    this.measured = carried?.measured ?? 0;
    this.offers = carried?.offers ?? 0;
    this.ncs = [...(carried?.ncs ?? [])];
    this.runs = (carried?.runs ?? 0) + 1;
    this.recorder = new Recorder<ObjectiveEventType>({
      view: () => this.view(),
      clauses: OBJECTIVE_CLAUSES,
      identity: () => ({ objectiveId: this.objectiveId }),
      numberedBefore: carried?.recordSeq ?? 0,
      timeline: [...((carried?.history ?? []) as Recorder<ObjectiveEventType>['timeline'])],
      keep: HISTORY_KEPT,
    });
  }

  everyMs(): number {
    return durationMs(this.spec.policy.every ?? this.definition.every);
  }

  dueInMs(): number {
    return durationMs(this.spec.policy.dueIn ?? this.definition.dueIn);
  }

  event(type: ObjectiveEventType, by: string, detail: string, workflowId?: string): void {
    this.recorder.event(type, by, detail, { workflowId });
  }

  publish(): void {
    this.recorder.publish();
  }

  ensureActive(): void {
    if (this.retired || this.retiring) reject(`the objective ${this.objectiveId} is retired`);
  }

  retire(retirement: RetireObjective): void {
    this.retiring = retirement;
    this.currentScope?.cancel();
    this.wake += 1;
  }

  /** Adds a measurement to the series (the newest kept). */
  add(m: Measurement): void {
    this.series.push(m);
    if (this.series.length > SERIES_KEPT) this.series.splice(0, this.series.length - SERIES_KEPT);
    this.measured = Math.max(this.measured, m.n);
  }

  /** The next measurement after one taken now: one interval after the planned one, or after now when that has passed. */
  planNext(): void {
    const every = this.everyMs();
    const planned = this.nextAtMs + every;
    this.nextAtMs = planned > Date.now() ? planned : Date.now() + every;
  }

  state(): ObjectiveState {
    if (this.retired) return 'retired';
    const last = this.series.at(-1);
    if (this.current && !last) return 'measuring';
    return last ? last.evaluation : 'not-measured';
  }

  shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    return this.measuredThisRun >= (this.spec.policy.continueAsNewAfter ?? DEFAULT_CONTINUE_AS_NEW_AFTER) || info.continueAsNewSuggested;
  }

  continued(): ObjectiveInput {
    const carried: ObjectiveCarried = {
      definition: this.definition,
      registeredAt: this.registeredAt,
      nextAt: new Date(this.nextAtMs).toISOString(),
      series: this.series,
      measured: this.measured,
      offers: this.offers,
      ncs: this.ncs,
      runs: this.runs,
      history: this.recorder.timeline,
      recordSeq: this.recorder.numbered(),
    };
    const { spec } = this;
    return { objectiveId: this.objectiveId, definition: this.definition, source: spec.source, registeredBy: spec.registeredBy, policy: spec.policy, carried };
  }

  status(): ObjectiveStatus {
    return {
      objectiveId: this.objectiveId,
      workflowId: this.workflowId,
      definition: this.definition,
      source: this.spec.source,
      registeredAt: this.registeredAt,
      state: this.state(),
      nextAt: new Date(this.nextAtMs).toISOString(),
      ...(this.current ? { current: this.current } : {}),
      series: this.series,
      measured: this.measured,
      offers: this.offers,
      ncs: this.ncs,
      runs: this.runs,
      ...(this.retired ? { retired: this.retired } : {}),
      history: this.recorder.timeline,
    };
  }

  private view() {
    const state = this.state();
    const { definition: d, objectiveId } = this;
    const last = this.series.at(-1);
    return {
      attributes: [
        { key: searchAttributes.process, value: 'objective' },
        { key: searchAttributes.ref, value: objectiveId },
        { key: searchAttributes.state, value: state },
        { key: searchAttributes.owner, value: d.owner },
        { key: searchAttributes.clauses, value: [...OBJECTIVE_CLAUSES] },
        ...(this.retired ? [] : [{ key: searchAttributes.dueDate, value: new Date(this.current ? Date.parse(this.current.dueAt) : this.nextAtMs) }]),
      ],
      memo: { kind: 'objective', objectiveId, title: d.statement.slice(0, 200), state, last: last ? { value: last.value, at: last.at, evaluation: last.evaluation } : null },
      details: [
        `**${objectiveId}** · ${d.metric.name}: target ${d.metric.target} ${d.metric.unit} (${d.metric.direction}) · owner ${d.owner}`,
        last ? `last ${last.value} ${d.metric.unit} (${last.evaluation})` : 'not measured yet',
        ...(this.retired ? ['retired'] : [`next measurement ${formatDay(this.nextAtMs)}`]),
      ].join(' · '),
    };
  }
}
