/**
 * Objective measurement (ISO/IEC 42001 6.2, 9.1) against the real dev server, SMTP server and
 * ledger: measurements at short intervals, each evaluated against the target and the at-risk
 * threshold; a miss tells the AIMS manager, two misses in a row offer a corrective action that
 * raises an NC; a bad value is refused naming the field; a change of the definition is recorded;
 * retirement ends the workflow.
 */
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeObjectiveUpdate, objectiveStatusQuery, retireObjectiveUpdate, type ObjectiveWorkflow } from '../src/objectives/contract.js';
import type { ObjectiveDefinitionInput, ObjectiveStatus } from '../src/objectives/schema.js';
import { ensureObjective } from '../src/objectives/start.js';
import { completeTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import { StartInputError } from '../src/temporal/start.js';
import { recordHistory } from './helpers/histories.js';
import { isNotification } from './helpers/smtp.js';
import { eventually, startTestStack, updateRejection, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ randomNcNumbers: true });
});
afterAll(async () => {
  await stack?.stop();
});

const quiet = { reminderOffsets: [], escalation: [] };

function definition(overrides: Partial<ObjectiveDefinitionInput> = {}): ObjectiveDefinitionInput {
  return {
    id: `accuracy-${randomBytes(4).toString('hex')}`,
    statement: 'Keep the credit-scoring model accurate on the monthly hold-out sample.',
    owner: 'marco.rossi',
    serves: 'Commitment 2: AI systems perform as intended',
    metric: { name: 'Hold-out accuracy', unit: '%', direction: 'higher-is-better', target: 95, atRisk: 90 },
    every: '90d',
    measurement: { by: 'sofia.lind', method: 'Accuracy on the monthly hold-out sample, from the model monitoring dashboard.' },
    ...overrides,
  };
}

async function start(d: ObjectiveDefinitionInput) {
  const ensured = await ensureObjective(
    stack.client,
    stack.taskQueue,
    { objectiveId: d.id, definition: d, registeredBy: 'priya.raman', policy: { every: '2s', firstIn: '1s', dueIn: '1h', tasks: quiet } },
    { organization: stack.organization },
  );
  return stack.client.workflow.getHandle<ObjectiveWorkflow>(ensured.workflowId);
}

const status = (h: WorkflowHandle) => h.query(objectiveStatusQuery);

/** Waits for a task to be open, then completes it as `by`. */
async function complete(taskId: string, by: string, data: Record<string, unknown>) {
  const task = stack.client.workflow.getHandle(taskId);
  await eventually(() => task.query(taskStatusQuery).catch(() => undefined), (s) => s?.state === 'open' && s.assignee.id !== '', { timeoutMs: 30_000 });
  return task.executeUpdate(completeTaskUpdate, { args: [{ by, data }] });
}

const measurementData = (value: number) => ({ value, method: 'Hold-out sample of 5,000 applications', evidence: 'https://dash.northwind.example/accuracy' });

describe('objective measurement', () => {
  it('measures at each interval, tells the AIMS manager of a miss, and offers a corrective action after two misses in a row', async () => {
    const d = definition();
    const h = await start(d);
    const id = h.workflowId;

    // 1: off target (92 < 95, above the threshold 90): the AIMS manager is told.
    const task1 = stack.client.workflow.getHandle(`${id}/measurement-1`);
    await eventually(() => task1.query(taskStatusQuery).catch(() => undefined), (s) => s?.state === 'open' && s.assignee.id !== '', { timeoutMs: 30_000 });
    const t1 = await task1.query(taskStatusQuery);
    expect(t1).toMatchObject({ form: 'measurement', assignee: { id: 'sofia.lind' }, clauses: ['6.2', '9.1'] });
    expect(t1.instructions).toContain('target 95, at risk past 90');
    // A value that is not a number is refused, naming the field.
    const refused = await updateRejection(task1.executeUpdate(completeTaskUpdate, { args: [{ by: 'sofia.lind', data: { value: 'ninety', method: 'x' } }] }));
    expect(refused).toContain('value');
    await complete(`${id}/measurement-1`, 'sofia.lind', { ...measurementData(92), comment: 'Drift in the new region.' });
    const notice = await stack.smtp.waitFor((m) => isNotification(m, id, 'objective.at-risk', 'priya.raman@northwind.example'));
    expect(notice.subject).toContain('Objective off target');
    expect(notice.text).toContain('92 % against a target of 95 %');
    expect(notice.text).toContain('Misses in a row: 1');

    // 2: on target.
    await complete(`${id}/measurement-2`, 'sofia.lind', measurementData(96.5));
    // 3 and 4: two misses in a row, the second past the at-risk threshold.
    await complete(`${id}/measurement-3`, 'sofia.lind', measurementData(93));
    await complete(`${id}/measurement-4`, 'sofia.lind', measurementData(88));
    const offered = await eventually(() => status(h), (s) => s.offers === 1, { timeoutMs: 30_000 });
    expect(offered.series.map((m) => [m.n, m.value, m.evaluation, m.missesInRow])).toEqual([
      [1, 92, 'off-target', 1],
      [2, 96.5, 'on-target', 0],
      [3, 93, 'off-target', 1],
      [4, 88, 'at-risk', 2],
    ]);
    // No offer after the single miss of measurement 1.
    const offerTask = stack.client.workflow.getHandle(`${id}/nc-offer-4`);
    await expect(stack.client.workflow.getHandle(`${id}/nc-offer-1`).describe()).rejects.toThrow();
    const atRisk = await stack.smtp.waitFor((m) => isNotification(m, id, 'objective.at-risk') && m.text?.includes('88 %') === true);
    expect(atRisk.subject).toContain('Objective at risk');
    const offer = await eventually(() => offerTask.query(taskStatusQuery).catch(() => undefined), (s) => s?.state === 'open' && s.assignee.id !== '', { timeoutMs: 30_000 });
    expect(offer).toMatchObject({ form: 'yes-no', assignee: { id: 'priya.raman' } });
    await complete(`${id}/nc-offer-4`, 'priya.raman', { answer: 'yes', justification: 'Two misses: find the cause of the drift.' });
    const raised = await eventually(() => status(h), (s) => s.ncs.length === 1, { timeoutMs: 30_000 });
    const ncId = raised.ncs[0]!;
    const nc = await stack.client.workflow.getHandle(`corrective-action/${ncId}`).describe();
    expect(nc.searchAttributes.AimsSource).toEqual(['objective']);
    expect(nc.searchAttributes.AimsOwner).toEqual(['marco.rossi']);

    // The ledger holds every value and evaluation.
    const measured = await stack.records.list({ kind: 'objective.measured', subjectPrefix: id });
    expect(measured.map((r) => { const c = r.content as { value: number; evaluation: string }; return [c.value, c.evaluation]; })).toEqual([
      [92, 'off-target'],
      [96.5, 'on-target'],
      [93, 'off-target'],
      [88, 'at-risk'],
    ]);
    expect(measured[0]!.clauses).toEqual(['6.2', '9.1']);
    // The NC shows in the status before its decision record is appended.
    const decided = await eventually(() => stack.records.list({ kind: 'objective.nc-offer-decided', subjectPrefix: id }), (r) => r.length === 1);
    expect(decided[0]!.content).toMatchObject({ answer: 'yes', ncId });

    // A change of the definition is checked and recorded.
    const badChange = await updateRejection(
      h.executeUpdate(changeObjectiveUpdate, { args: [{ by: 'priya.raman', reason: 'raise the bar', changes: { metric: { ...d.metric, target: 97, atRisk: 98 } } }] }),
    );
    expect(badChange).toContain('changes.metric.atRisk: must be at or below the target when higher is better');
    await h.executeUpdate(changeObjectiveUpdate, { args: [{ by: 'priya.raman', reason: 'raise the bar', changes: { metric: { ...d.metric, target: 97, atRisk: 93 } } }] });
    const changed = await stack.records.list({ kind: 'objective.changed', subjectPrefix: id });
    expect(changed[0]!.content).toMatchObject({ reason: 'raise the bar', after: { metric: { target: 97 } } });

    await h.executeUpdate(retireObjectiveUpdate, { args: [{ by: 'priya.raman', reason: 'replaced by a fairness objective' }] });
    const result = await h.result();
    expect(result).toMatchObject({ status: 'retired', measured: 4 });
    const final: ObjectiveStatus = await status(h);
    expect(final.state).toBe('retired');
    await recordHistory('objective', id);
  });

  it('refuses a definition naming an unknown owner or a threshold on the wrong side of the target, naming the field', async () => {
    const d = definition({ owner: 'nobody.here' });
    const err = await ensureObjective(stack.client, stack.taskQueue, { objectiveId: d.id, definition: d }, { organization: stack.organization }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartInputError);
    expect((err as Error).message).toContain('definition.owner');
    const wrong = definition({ metric: { name: 'Error rate', unit: '%', direction: 'lower-is-better', target: 2, atRisk: 1 } });
    const err2 = await ensureObjective(stack.client, stack.taskQueue, { objectiveId: wrong.id, definition: wrong }, { organization: stack.organization }).catch((e: unknown) => e);
    expect((err2 as Error).message).toContain('definition.metric.atRisk');
  });
});
