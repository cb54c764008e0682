/**
 * Task starts: human tasks started per second through the real admin API (`POST /admin/tasks`
 * on a port, aimsflow as `npm start` runs it) ÷ bare no-op workflows started per second through
 * the Temporal client, both by the same closed loop at the same concurrency, against the same
 * dev server, in alternating rounds (short rounds, so load from elsewhere on the machine falls
 * on both sides alike). Also the p50 and p99 latency of each start. Goal: ratio ≥ 0.7.
 *
 * After each aimsflow round the bench waits until every assignment has been mailed, so the bare
 * round runs on a quiet system while aimsflow's rounds pay for their own background work.
 *
 *   npm run bench -- task-start          BENCH_STARTS=500 starts a side in BENCH_ROUNDS=5 rounds, BENCH_CONCURRENCY=20
 *   BENCH_STARTS=100 BENCH_ROUNDS=2 npm run bench -- task-start    (a quick run)
 */
import { benchFigures } from './lib/results.js';
import { closedLoop, envInt, pooled, type LoadResult } from './lib/load.js';
import type { MailLog } from './lib/mail.js';
import { quietMail, runBench, say } from './lib/stack.js';
import { startNoop, startTaskViaApi, taskInput } from './lib/tasks.js';

const total = envInt('BENCH_STARTS', 500);
const rounds = envInt('BENCH_ROUNDS', 5);
const concurrency = envInt('BENCH_CONCURRENCY', 20);
const starts = Math.ceil(total / rounds);
const warmup = Math.min(40, starts);

await runBench('task-start', {}, async (stack) => {
  const { aimsflow, temporal } = stack;
  let n = 0;
  const aimsStart = () => startTaskViaApi(aimsflow, taskInput(n++));
  const bareStart = () => startNoop(temporal.client);

  say(`warming up (${warmup} starts each)`);
  await closedLoop(concurrency, warmup, bareStart);
  await closedLoop(concurrency, warmup, aimsStart);
  await drained(stack.mail, warmup);

  const bare: LoadResult[] = [];
  const aims: LoadResult[] = [];
  for (let round = 1; round <= rounds; round++) {
    say(`round ${round}/${rounds}: ${starts} bare starts, then ${starts} task starts, at ${concurrency} concurrent`);
    bare.push(await closedLoop(concurrency, starts, bareStart));
    aims.push(await closedLoop(concurrency, starts, aimsStart));
    say(`round ${round}: bare ${bare.at(-1)!.rate.toFixed(1)}/s, tasks ${aims.at(-1)!.rate.toFixed(1)}/s; waiting for the assignment mails`);
    await drained(stack.mail, warmup + round * starts);
  }

  const b = pooled(bare);
  const a = pooled(aims);
  const ratio = a.rate / b.rate;
  const figures = benchFigures('task-start');
  const detail = { concurrency, startsPerSide: a.done, rounds, via: 'POST /admin/tasks (HTTP) vs client.workflow.start (gRPC)', process: 'workers/local.ts (worker + API + PGlite)' };
  figures.add({ name: 'tasks started per second', value: a.rate, unit: '/s', baseline: b.rate, goal: '>= 0.7', met: ratio >= 0.7, detail });
  figures.add({ name: 'start latency p50', value: a.p50, unit: 'ms', baseline: b.p50, detail });
  figures.add({ name: 'start latency p99', value: a.p99, unit: 'ms', baseline: b.p99, detail });
  await figures.write();
});

/** Until `tasks` assignment mails have arrived and the mail has been quiet for a moment. */
async function drained(mail: MailLog, tasks: number): Promise<void> {
  await mail.waitForCount((m) => m.kind === 'task.assigned' && m.notificationId.startsWith('task/adhoc/'), tasks, 600_000);
  await quietMail(mail, 1_000, 30_000);
}
