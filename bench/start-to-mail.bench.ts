/**
 * Start to mail: human tasks started through the admin API whose assignment mail arrived at the
 * SMTP server, per second, ÷ bare no-op workflows started through the Temporal client and
 * completed, per second; both started by the same closed loop at the same concurrency, against
 * the same dev server, in alternating rounds. A round's rate is its workflows over the time from
 * its first start to its last mail (aimsflow) or its last completion (bare, the close time
 * Temporal recorded). Also the p50 and p99 of each one's start-to-mail (start-to-close) time.
 *
 *   npm run bench -- start-to-mail       BENCH_TASKS=400 a side in BENCH_ROUNDS=4 rounds, BENCH_CONCURRENCY=20
 *   BENCH_TASKS=100 BENCH_ROUNDS=2 npm run bench -- start-to-mail   (a quick run)
 */
import { benchFigures, percentile } from './lib/results.js';
import { closedLoop, envInt } from './lib/load.js';
import { workflowIdOf } from './lib/mail.js';
import { quietMail, runBench, say } from './lib/stack.js';
import { startNoop, startTaskViaApi, taskInput } from './lib/tasks.js';

const total = envInt('BENCH_TASKS', 400);
const rounds = envInt('BENCH_ROUNDS', 4);
const concurrency = envInt('BENCH_CONCURRENCY', 20);
const perRound = Math.ceil(total / rounds);

interface Round {
  count: number;
  /** From the first start to the last mail (completion), ms. */
  spanMs: number;
  /** Each workflow's start request to its mail (completion), ms. */
  latenciesMs: number[];
}

await runBench('start-to-mail', {}, async (stack) => {
  const { aimsflow, temporal, mail } = stack;
  let n = 0;

  /** Starts `count` tasks through the API and waits for their assignment mails. */
  const aimsRound = async (count: number): Promise<Round> => {
    const sentAt = new Map<string, number>();
    const first = Date.now();
    await closedLoop(concurrency, count, async () => {
      const at = Date.now();
      sentAt.set(await startTaskViaApi(aimsflow, taskInput(n++)), at);
    });
    const assigned = await mail.waitForCount((m) => m.kind === 'task.assigned' && sentAt.has(workflowIdOf(m.notificationId)), count, 600_000);
    const latenciesMs = assigned.map((m) => m.at - sentAt.get(workflowIdOf(m.notificationId))!);
    const round = { count, spanMs: Math.max(...assigned.map((m) => m.at)) - first, latenciesMs };
    await quietMail(mail, 1_000, 30_000);
    return round;
  };

  /** Starts `count` bare workflows and waits for them to complete. */
  const bareRound = async (count: number): Promise<Round> => {
    const sentAt = new Map<string, number>();
    const first = Date.now();
    await closedLoop(concurrency, count, async () => {
      const at = Date.now();
      sentAt.set(await startNoop(temporal.client, 'noop-mail'), at);
    });
    const closedAt = new Map<string, number>();
    const ids = [...sentAt.keys()];
    await closedLoop(concurrency, count, async (i) => {
      const id = ids[i]!;
      const handle = temporal.client.workflow.getHandle(id);
      await handle.result();
      const { closeTime } = await handle.describe();
      if (!closeTime) throw new Error(`${id} has no close time after its result`);
      closedAt.set(id, closeTime.getTime());
    });
    const latenciesMs = [...closedAt].map(([id, at]) => at - sentAt.get(id)!);
    return { count, spanMs: Math.max(...closedAt.values()) - first, latenciesMs };
  };

  say('warming up');
  await bareRound(Math.min(40, perRound));
  await aimsRound(Math.min(40, perRound));

  const bare: Round[] = [];
  const aims: Round[] = [];
  for (let round = 1; round <= rounds; round++) {
    bare.push(await bareRound(perRound));
    aims.push(await aimsRound(perRound));
    say(`round ${round}/${rounds}: bare ${rate([bare.at(-1)!]).toFixed(1)}/s completed, tasks ${rate([aims.at(-1)!]).toFixed(1)}/s mailed`);
  }

  const aimsLatencies = aims.flatMap((r) => r.latenciesMs);
  const bareLatencies = bare.flatMap((r) => r.latenciesMs);
  const figures = benchFigures('start-to-mail');
  const detail = { concurrency, perSide: perRound * rounds, rounds, baseline: 'bare no-op workflows completed (close time)' };
  figures.add({ name: 'tasks mailed per second (start to mail)', value: rate(aims), unit: '/s', baseline: rate(bare), detail });
  figures.add({ name: 'start to mail p50', value: percentile(aimsLatencies, 50), unit: 'ms', baseline: percentile(bareLatencies, 50), detail });
  figures.add({ name: 'start to mail p99', value: percentile(aimsLatencies, 99), unit: 'ms', baseline: percentile(bareLatencies, 99), detail });
  await figures.write();
});

/** Workflows per second over the rounds' summed spans. */
function rate(rounds: readonly Round[]): number {
  return (rounds.reduce((n, r) => n + r.count, 0) / rounds.reduce((t, r) => t + r.spanMs, 0)) * 1000;
}

