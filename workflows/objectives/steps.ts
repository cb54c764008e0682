/**
 * The steps of an objective's measurement (6.2, 9.1): registration, the wait for the next
 * measurement, the measurement task, its evaluation against the target and the at-risk
 * threshold (recorded, an "objective at risk" notice to the AIMS manager on a miss), the offer of
 * a corrective action after two misses in a row, and retirement.
 */
import { ActivityFailure, CancellationScope, condition, isCancellation, log } from '@temporalio/workflow';
import type { PersonRef } from '../../src/common/schemas.js';
import { evaluateValue, missesInRow, OBJECTIVE_CLAUSES, type Measurement, type ObjectiveResult } from '../../src/objectives/schema.js';
import { acts } from '../lib/activities.js';
import { raiseNonconformity, runStep, type CompletedStep } from '../lib/children.js';
import { formatDay, StepCancelled } from '../lib/util.js';
import type { Objective } from './state.js';

/** Misses in a row that offer a corrective action. */
export const MISSES_FOR_OFFER = 2;

export async function register(s: Objective): Promise<void> {
  if (s.spec.carried) return;
  const { spec, definition } = s;
  s.event('registered', spec.registeredBy, `registered from the ${spec.source === 'api' ? 'admin API' : 'organization file'}; first measurement ${formatDay(s.nextAtMs)}`);
  await s.recorder.append('objective.registered', spec.registeredBy, { definition, source: spec.source, nextAt: new Date(s.nextAtMs).toISOString() }, 'registered');
}

/** Waits for the next measurement or a message that changes the plan; true when it is time to measure. */
export async function waitForNext(s: Objective): Promise<boolean> {
  if (s.nextAtMs <= Date.now()) return true;
  const seen = s.wake;
  await condition(() => s.wake !== seen || s.retiring !== undefined, Math.max(1, s.nextAtMs - Date.now()));
  return s.nextAtMs <= Date.now() && !s.retiring;
}

function instructions(s: Objective): string {
  const { definition: d } = s;
  const m = d.metric;
  return [
    `Objective: ${d.statement}`,
    `It serves the AI policy commitment: ${d.serves}`,
    `Metric: ${m.name}, in ${m.unit} (${m.direction === 'higher-is-better' ? 'higher is better' : 'lower is better'}); target ${m.target}, at risk past ${m.atRisk}.`,
    `Method: ${d.measurement.method}`,
    'Enter the value you measured, the method you used, a link to the evidence and any comment.',
  ].join('\n\n');
}

/** Gives the measurer the measurement task; undefined when it was cancelled (on its own, or by retirement). */
export async function measure(s: Objective): Promise<{ n: number; step: CompletedStep } | undefined> {
  const n = s.measured + 1;
  const key = `measurement-${n}`;
  const { definition: d } = s;
  const dueAt = new Date(Date.now() + s.dueInMs()).toISOString();
  const scope = new CancellationScope();
  s.current = { n, taskId: `${s.workflowId}/${key}`, dueAt };
  s.currentScope = scope;
  s.event('measurement-requested', 'system', `measurement ${n} requested from ${d.measurement.by ?? d.owner}, due ${formatDay(Date.parse(dueAt))}`, s.current.taskId);
  s.publish();
  try {
    const step = await scope.run(() =>
      runStep(key, {
        title: `Measure objective ${s.objectiveId}: ${d.metric.name}`.slice(0, 200),
        instructions: instructions(s),
        clauses: [...OBJECTIVE_CLAUSES],
        process: 'objective',
        assignee: { person: d.measurement.by ?? d.owner },
        dueAt,
        form: 'measurement',
        requestedBy: 'system',
        policy: s.spec.policy.tasks,
      }),
    );
    return { n, step };
  } catch (err) {
    if (isCancellation(err) && s.retiring) return undefined;
    if (!(err instanceof StepCancelled)) throw err;
    s.event('measurement-not-taken', err.by, `measurement ${n} was not taken: ${err.reason}`, `${s.workflowId}/${key}`);
    await s.recorder.append('objective.measurement-not-taken', err.by, { n, reason: err.reason }, `measurement-not-taken-${n}`);
    s.measured = n;
    return undefined;
  } finally {
    s.current = undefined;
    s.currentScope = undefined;
  }
}

/** Evaluates a measured value, records it, tells the AIMS manager of a miss and offers a corrective action after two in a row. */
export async function evaluate(s: Objective, n: number, step: CompletedStep): Promise<Measurement> {
  const { metric } = s.definition;
  const data = step.data as { value: number; method: string; evidence?: string; comment?: string };
  const evaluation = evaluateValue(metric, data.value);
  const misses = missesInRow([...s.series.map((m) => m.evaluation), evaluation]);
  const measurement: Measurement = {
    n,
    value: data.value,
    method: data.method,
    ...(data.evidence ? { evidence: data.evidence } : {}),
    ...(data.comment ? { comment: data.comment } : {}),
    by: step.by,
    at: new Date().toISOString(),
    target: metric.target,
    atRisk: metric.atRisk,
    evaluation,
    missesInRow: misses,
    taskId: step.workflowId,
  };
  s.add(measurement);
  s.measuredThisRun += 1;
  s.event('measured', step.by, `measurement ${n}: ${data.value} ${metric.unit} (${evaluation.replace('-', ' ')}${misses ? `, ${misses} miss(es) in a row` : ''})`, step.workflowId);
  s.publish();
  await s.recorder.append(
    'objective.measured',
    step.by,
    { ...measurement, statement: s.definition.statement, metric: { name: metric.name, unit: metric.unit, direction: metric.direction } },
    `measured-${n}`,
  );
  if (evaluation !== 'on-target') await atRiskNotice(s, measurement);
  if (misses === MISSES_FOR_OFFER) startOffer(s, measurement);
  return measurement;
}

async function aimsManager(s: Objective): Promise<PersonRef[]> {
  try {
    return await acts.resolvePeople([{ role: 'aims-manager' }]);
  } catch (err) {
    if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
    log.warn('AIMS manager not told: look-up failed', { objectiveId: s.objectiveId, error: err.cause?.message ?? err.message });
    return [];
  }
}

async function atRiskNotice(s: Objective, m: Measurement): Promise<void> {
  const { metric, statement } = s.definition;
  const to = await aimsManager(s);
  s.event('at-risk-notice', 'system', `the AIMS manager was told: measurement ${m.n} is ${m.evaluation.replace('-', ' ')}`);
  if (to.length === 0) return;
  await s.recorder.notify(
    {
      kind: 'objective.at-risk',
      to,
      data: {
        title: `${s.objectiveId}: ${statement}`.slice(0, 300),
        valueText: `${m.value} ${metric.unit} against a target of ${m.target} ${metric.unit} (at-risk threshold ${m.atRisk} ${metric.unit})`.slice(0, 300),
        evaluationText: m.evaluation === 'at-risk' ? 'at risk' : 'off target',
        missesInRow: m.missesInRow,
        clauses: [...OBJECTIVE_CLAUSES],
        ...(m.comment ? { comment: m.comment.slice(0, 5000) } : {}),
      },
    },
    `at-risk-${m.n}`,
  );
}

/** Offers the AIMS manager a corrective action (a yes/no task) beside the measurements; yes raises it through `raiseNonconformity`. */
function startOffer(s: Objective, m: Measurement): void {
  const offer: Promise<void> = offerCorrectiveAction(s, m).finally(() => s.openOffers.delete(offer));
  s.openOffers.add(offer);
}

async function offerCorrectiveAction(s: Objective, m: Measurement): Promise<void> {
  const { definition: d } = s;
  s.offers += 1;
  const key = `nc-offer-${m.n}`;
  s.event('nc-offered', 'system', `${m.missesInRow} misses in a row: a corrective action is offered to the AIMS manager`, `${s.workflowId}/${key}`);
  await s.recorder.append('objective.nc-offered', 'system', { n: m.n, missesInRow: m.missesInRow, taskId: `${s.workflowId}/${key}` }, key);
  const recent = s.series.slice(-m.missesInRow).map((x) => `${x.value} ${d.metric.unit} on ${x.at.slice(0, 10)}`).join(', ');
  let step: CompletedStep;
  try {
    step = await runStep(key, {
      title: `Raise a corrective action for objective ${s.objectiveId}?`.slice(0, 200),
      instructions: `The objective "${d.statement}" missed its target of ${d.metric.target} ${d.metric.unit} ${m.missesInRow} times in a row (${recent}).\n\nAnswer yes to raise a nonconformity and start its corrective action (10.2), owned by ${d.owner}; no to leave it, with why.`,
      clauses: [...OBJECTIVE_CLAUSES, '10.2'],
      process: 'objective',
      assignee: { role: 'aims-manager' },
      dueAt: new Date(Date.now() + s.dueInMs()).toISOString(),
      form: 'yes-no',
      requestedBy: 'system',
      policy: s.spec.policy.tasks,
    });
  } catch (err) {
    if (err instanceof StepCancelled || isCancellation(err)) return;
    throw err;
  }
  const { answer, justification } = step.data as { answer: 'yes' | 'no'; justification: string };
  if (answer === 'no') {
    s.event('nc-declined', step.by, `corrective action declined: ${justification}`, step.workflowId);
    await s.recorder.append('objective.nc-offer-decided', step.by, { n: m.n, answer, justification }, `nc-offer-decided-${m.n}`);
    s.publish();
    return;
  }
  const { ncId, workflowId } = await raiseNonconformity(`nc-${m.n}`, {
    title: `Objective ${s.objectiveId} missed its target ${m.missesInRow} times in a row`.slice(0, 200),
    description: `${d.statement}\n\nMetric ${d.metric.name}: target ${d.metric.target} ${d.metric.unit}; the last values were ${recent}.\n\nDecided by ${step.by}: ${justification}`,
    severity: 'minor',
    source: 'objective',
    sourceRef: s.objectiveId,
    clauses: [...OBJECTIVE_CLAUSES],
    owner: d.owner,
    raisedBy: step.by,
  });
  s.ncs.push(ncId);
  s.event('nc-raised', step.by, `${ncId} raised: ${justification}`, workflowId);
  await s.recorder.append('objective.nc-offer-decided', step.by, { n: m.n, answer, justification, ncId, workflowId }, `nc-offer-decided-${m.n}`);
  s.publish();
}

/** Retired: open offers cancelled, the final record. */
export async function retire(s: Objective): Promise<ObjectiveResult> {
  const { by, reason } = s.retiring ?? { by: 'system', reason: 'retired' };
  s.retired = { by, at: new Date().toISOString(), reason };
  s.event('retired', by, `retired: ${reason}`);
  s.publish();
  await s.recorder.append('objective.retired', by, { reason, measured: s.measured, series: s.series.length }, 'retired');
  return { objectiveId: s.objectiveId, status: 'retired', measured: s.measured };
}
