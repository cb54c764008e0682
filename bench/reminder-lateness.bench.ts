/**
 * Reminder lateness: BENCH_REMINDERS human tasks (default 1,000) whose reminder falls due at the
 * same instant, each measured from that instant to its reminder mail's arrival at the SMTP
 * server: p50 and p99. Goal: p99 < 1 s. Baseline: as many bare workflows whose timer fires at
 * one instant, measured from that instant to the moment their one tiny activity ran.
 *
 * The tasks are started through the admin API (due an hour after the instant, reminded an hour
 * before, no escalation), and the instant is set far enough ahead that every assignment mail has
 * gone out before it (a lead worked out from a warm-up; BENCH_REMINDER_LEAD_S sets it). The bare
 * workflows are started after the reminders are out, so neither side's burst overlaps the
 * other's.
 *
 *   npm run bench -- reminder-lateness
 *   BENCH_REMINDERS=200 npm run bench -- reminder-lateness   (a quick run)
 */
import { benchFigures, percentile } from './lib/results.js';
import { closedLoop, envInt } from './lib/load.js';
import { workflowIdOf } from './lib/mail.js';
import { quietMail, runBench, say } from './lib/stack.js';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { BARE_TASK_QUEUE } from './lib/bare.js';
import { startNoop, startTaskViaApi, taskInput } from './lib/tasks.js';

const reminders = envInt('BENCH_REMINDERS', 1000);
const concurrency = envInt('BENCH_CONCURRENCY', 20);
const HOUR_MS = 3_600_000;

await runBench('reminder-lateness', {}, async ({ aimsflow, temporal, mail }) => {
  // Warm-up: how fast this machine starts tasks and mails their assignments now, to set the instant.
  const warm = 40;
  const warmStart = Date.now();
  let n = 0;
  const warmIds = new Set<string>();
  await closedLoop(concurrency, warm, async () => warmIds.add(await startTaskViaApi(aimsflow, taskInput(n++))));
  await mail.waitForCount((m) => m.kind === 'task.assigned' && warmIds.has(workflowIdOf(m.notificationId)), warm, 300_000);
  const perTaskMs = (Date.now() - warmStart) / warm;
  await quietMail(mail, 1_000, 30_000);
  const leadMs = envInt('BENCH_REMINDER_LEAD_S', Math.ceil((reminders * perTaskMs * 1.5) / 1000) + 20) * 1000;

  // aimsflow: the tasks, all reminded at `remindAt`.
  const remindAt = Date.now() + leadMs;
  say(`starting ${reminders} tasks reminded at ${new Date(remindAt).toISOString()} (in ${Math.round(leadMs / 1000)} s)`);
  const ids = new Set<string>();
  const dueAt = new Date(remindAt + HOUR_MS).toISOString();
  await closedLoop(concurrency, reminders, async () => {
    ids.add(await startTaskViaApi(aimsflow, taskInput(n++, undefined, { dueAt, policy: { reminderOffsets: ['1h'], escalation: [] } })));
  });
  await mail.waitForCount((m) => m.kind === 'task.assigned' && ids.has(workflowIdOf(m.notificationId)), reminders, Math.max(10_000, remindAt - Date.now()));
  await quietMail(mail, 1_000, 10_000);
  if (Date.now() > remindAt - 2_000) throw new Error(`the tasks were not all set up and mailed 2 s before their reminder instant: set BENCH_REMINDER_LEAD_S above ${Math.round(leadMs / 1000)}`);
  say(`every assignment mailed; waiting for the reminders at ${new Date(remindAt).toISOString()}`);
  const reminded = await mail.waitForCount((m) => m.kind === 'task.reminder' && ids.has(workflowIdOf(m.notificationId)), reminders, remindAt - Date.now() + 600_000);
  const aimsLateness = reminded.map((m) => m.at - remindAt);
  await quietMail(mail, 1_000, 30_000);

  // Bare: as many timers firing at one instant, each running one tiny activity.
  const bareStartMs = await measureBareStarts(temporal.client, concurrency);
  const bareLeadMs = Math.ceil(reminders * bareStartMs * 1.5) + 10_000;
  const fireAt = Date.now() + bareLeadMs;
  say(`starting ${reminders} bare timers firing at ${new Date(fireAt).toISOString()} (in ${Math.round(bareLeadMs / 1000)} s)`);
  const handles = new Array<string>();
  await closedLoop(concurrency, reminders, async () => {
    const handle = await temporal.bareClient.workflow.start('benchTimer', { taskQueue: BARE_TASK_QUEUE, workflowId: `bench/timer/${randomUUID()}`, args: [fireAt] });
    handles.push(handle.workflowId);
  });
  if (Date.now() > fireAt - 1_000) throw new Error('the bare timers were not all started a second before their instant');
  await sleep(fireAt - Date.now());
  const ranAt = new Array<number>();
  await closedLoop(concurrency, reminders, async (i) => ranAt.push(await temporal.client.workflow.getHandle<(at: number) => Promise<number>>(handles[i]!).result()));
  const bareLateness = ranAt.map((at) => at - fireAt);

  const figures = benchFigures('reminder-lateness');
  const detail = { reminders, leadSeconds: Math.round(leadMs / 1000), workflowCache: 'WORKER_MAX_CACHED_WORKFLOWS (default 500)', baseline: 'bare timers to their tiny activity' };
  const p99 = percentile(aimsLateness, 99);
  figures.add({ name: 'reminder lateness p50 (instant to mail)', value: percentile(aimsLateness, 50), unit: 'ms', baseline: percentile(bareLateness, 50), detail });
  figures.add({ name: 'reminder lateness p99 (instant to mail)', value: p99, unit: 'ms', baseline: percentile(bareLateness, 99), goal: '< 1000 ms', met: p99 < 1000, detail });
  figures.add({ name: 'reminder lateness max', value: Math.max(...aimsLateness), unit: 'ms', baseline: Math.max(...bareLateness), detail });
  await figures.write();
});

/** Milliseconds per bare start at `concurrency`, from 50 starts now. */
async function measureBareStarts(client: Client, concurrency: number): Promise<number> {
  const run = await closedLoop(concurrency, 50, () => startNoop(client, 'noop-warm'));
  return run.elapsedMs / run.done;
}

