/**
 * A decision through the link page: the task page opened from its e-mailed link
 * (`GET /t?token=`), then its form sent with the hidden CSRF field read from that page
 * (`POST /t?token=`, completing the task), at fixed rates of 50 and 200 requests per second
 * (autocannon, `overallRate`, per-request setup) by as many simulated people as requests a
 * second, each on a connection and client address of its own (bench/lib/loopback.ts), each
 * decision on a task and link of its own (tasks assigned in turn to BENCH_PEOPLE people of the
 * organization): p50 and p99 of every request. Baseline: a bare Fastify route pair
 * (bench/lib/bare-fastify.ts, its own process) under the same load. Goal: p99 < 50 ms at 200
 * requests per second.
 *
 * Every decision completes a task, so the bench first starts one open task per decision through
 * the admin API and waits for their assignment mails, whose links it follows. Between runs it
 * waits for aimsflow's mail to go quiet, so no run pays for the one before.
 *
 *   npm run bench -- link-decision       BENCH_SECONDS=10 at each of BENCH_RATES=50,200; BENCH_PEOPLE=400
 *   BENCH_SECONDS=4 BENCH_RATES=50 npm run bench -- link-decision   (a quick run)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { freePort, waitForPort } from '../scripts/lib/wait.js';
import { repoRoot } from './lib/aimsflow.js';
import { closedLoop, envInt } from './lib/load.js';
import { fromManyAddresses } from './lib/loopback.js';
import { workflowIdOf } from './lib/mail.js';
import { writeBenchOrganization } from './lib/organization.js';
import { spawnLogged } from './lib/process.js';
import { benchFigures, percentile } from './lib/results.js';
import { quietMail, runBench, say } from './lib/stack.js';
import { startTaskViaApi, taskInput } from './lib/tasks.js';

/** Even: each simulated person sends a page request and a form in turn, one a second. */
const seconds = Math.ceil(envInt('BENCH_SECONDS', 10, 2) / 2) * 2;
const people = envInt('BENCH_PEOPLE', 400);
const rates = (process.env.BENCH_RATES ?? '50,200').split(',').map((r) => {
  const rate = Number(r);
  if (!Number.isInteger(rate) || rate < 2) throw new Error(`BENCH_RATES: ${r} is not a rate of at least 2 requests per second`);
  return rate;
});
const GOAL_RATE = 200;
const GOAL_P99_MS = 50;
/** autocannon instances a run is split over, started evenly across a second. */
const STAGGER = 20;
/** The warm-up: 50 requests a second for 2 s. */
const WARMUP = { rate: 50, seconds: 2 };
/** The hidden field of a page's form. */
const CSRF_FIELD = /name="csrf" value="([0-9a-f]{64})"/;

interface DecisionContext {
  link?: string;
  csrf?: string;
}

const orgDir = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-bench-org-'));
const orgFile = path.join(orgDir, 'organization.yaml');
const assignees = await writeBenchOrganization(orgFile, people);

await runBench('link-decision', { orgFile }, async ({ aimsflow, mail, logDir }) => {
  // One open task per decision: the warm-up and every run at every rate, a request pair each.
  const decisions = [WARMUP, ...rates.map((rate) => ({ rate, seconds }))].reduce((n, r) => n + (r.rate * r.seconds) / 2, 0);
  say(`starting ${decisions} tasks for ${people} people and waiting for their assignment mails`);
  const ids = new Set<string>();
  let n = 0;
  await closedLoop(20, decisions, async () => ids.add(await startTaskViaApi(aimsflow, taskInput(n++, assignees))));
  const assigned = await mail.waitForCount((m) => m.kind === 'task.assigned' && ids.has(workflowIdOf(m.notificationId)), decisions, 900_000);
  const links = assigned.map((m) => {
    if (!m.actionUrl) throw new Error(`the assignment mail ${m.notificationId} carries no link to its page`);
    const url = new URL(m.actionUrl);
    return `${url.pathname}${url.search}`;
  });
  await quietMail(mail, 2_000, 60_000);

  // The bare baseline in its own process, like the API.
  const barePort = await freePort();
  const bare = spawnLogged('bare fastify', process.execPath, ['--import', 'tsx', 'bench/lib/bare-fastify.ts'], {
    cwd: repoRoot,
    env: { ...process.env, NODE_ENV: 'production', PORT: String(barePort) },
    logFile: path.join(logDir, 'bare-fastify.log'),
  });
  try {
    await waitForPort('127.0.0.1', barePort, { timeoutMs: 30_000, signal: bare.exitSignal });
    const aimsUrl = new URL(aimsflow.apiUrl);
    let nextLink = 0;
    const aimsLink = () => {
      const link = links[nextLink++];
      if (!link) throw new Error('ran out of open tasks');
      return link;
    };
    let bareN = 0;
    const bareLink = () => `/t?token=bare-${bareN++}`;

    const bareUrl = new URL(`http://127.0.0.1:${barePort}`);
    await decisionLoad(bareUrl, bareLink, WARMUP.rate, WARMUP.seconds);
    await decisionLoad(aimsUrl, aimsLink, WARMUP.rate, WARMUP.seconds);
    await quietMail(mail, 2_000, 120_000);

    const figures = benchFigures('link-decision');
    for (const rate of rates) {
      say(`${rate} requests per second for ${seconds} s: the bare route, then the link page`);
      const b = await decisionLoad(bareUrl, bareLink, rate, seconds);
      const a = await decisionLoad(aimsUrl, aimsLink, rate, seconds);
      const [a50, a99, b50, b99] = [percentile(a.latenciesMs, 50), percentile(a.latenciesMs, 99), percentile(b.latenciesMs, 50), percentile(b.latenciesMs, 99)];
      say(`${rate}/s: bare p50 ${b50.toFixed(1)} ms p99 ${b99.toFixed(1)} ms; link page p50 ${a50.toFixed(1)} ms p99 ${a99.toFixed(1)} ms (${a.held.toFixed(0)} requests/s held)`);
      const detail = { rate, seconds, requests: rate * seconds, people, maxMs: Math.max(...a.latenciesMs), held: a.held, baselineHeld: b.held, answers: a.answers };
      figures.add({ name: `link decision p50 at ${rate}/s`, value: a50, unit: 'ms', baseline: b50, detail });
      const p99 = { name: `link decision p99 at ${rate}/s`, value: a99, unit: 'ms', baseline: b99, detail };
      figures.add(rate === GOAL_RATE ? { ...p99, goal: `< ${GOAL_P99_MS} ms`, met: a99 < GOAL_P99_MS } : p99);
      figures.add({ name: `link requests answered 5xx at ${rate}/s`, value: a.failed, unit: '', baseline: b.failed, goal: '= 0', met: a.failed === 0, detail: { answers: a.answers, decisionsAfterPageWithoutForm: a.withoutForm } });
      await quietMail(mail, 2_000, 300_000);
    }
    await figures.write();
  } finally {
    await bare.stop();
    await rm(orgDir, { recursive: true, force: true });
  }
});

/** Every request's latency (with those held back by a slow answer), the rate held, and the answers. */
interface Load {
  latenciesMs: number[];
  /** Requests answered per second over the run. */
  held: number;
  /** Requests answered with a 5xx. */
  failed: number;
  /** Decisions posted after a page answered without its form (503), so refused 403. */
  withoutForm: number;
  /** Status codes and their counts, e.g. `200: 1990, 503: 10`. */
  answers: string;
}

/**
 * `seconds` of load at `rate` requests a second against `target`, by `rate` simulated people
 * (connections), each on its own client address, each sending one request a second: the next
 * link's page, then a second later its form with the CSRF field read from the page, and so on.
 * autocannon paces a connection by whole seconds from its start, so its connections would all
 * send at the top of each second; the load is split over STAGGER instances started evenly across
 * the first second, so requests arrive spread over each second as people's do. A 4xx fails the
 * bench, naming the status codes (429: a rate limit refused the load); a 5xx is counted.
 */
async function decisionLoad(target: URL, nextLink: () => string, rate: number, seconds: number): Promise<Load> {
  const instances = divisorUpTo(rate, STAGGER);
  const perInstance = rate / instances;
  const latenciesMs: number[] = [];
  const corrected: number[] = [];
  const statuses = new Map<number, number>();
  let errors = 0;
  // Decisions posted after a page that came without its form (a 503): refused 403 for the
  // missing CSRF field, as a person's browser would never send them. Counted, not a bench error.
  let withoutForm = 0;
  const started = Date.now();
  const options: autocannon.Options = {
    url: target.origin,
    connections: perInstance,
    overallRate: perInstance,
    amount: perInstance * seconds,
    timeout: 30,
    requests: [
      {
        method: 'GET',
        setupRequest: (request, context: DecisionContext) => {
          context.link = nextLink();
          context.csrf = undefined;
          return { ...request, path: context.link };
        },
        onResponse: (_status, body, context: DecisionContext) => {
          context.csrf = CSRF_FIELD.exec(body)?.[1];
        },
      },
      {
        method: 'POST',
        setupRequest: (request, context: DecisionContext) => {
          if (!context.csrf) withoutForm += 1;
          const form = new URLSearchParams({ csrf: context.csrf ?? '', summary: 'Reviewed; the card matches the policy.', links: 'https://wiki.northwind.example/model-cards/42' });
          return { ...request, path: context.link!, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: target.origin }, body: form.toString() };
        },
      },
    ],
  };
  const one = (delayMs: number) =>
    new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        const instance = autocannon(options, (err: unknown) => (err ? reject(err instanceof Error ? err : new Error('autocannon failed')) : resolve()));
        instance.on('response', (_client, statusCode, _bytes, responseTime) => {
          statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
          latenciesMs.push(responseTime);
          // A connection sends one request a second; an answer slower than that held back the
          // requests due meanwhile: count them as waiting too (coordinated omission, corrected
          // as HdrHistogram's recordValueWithExpectedInterval does).
          for (let missed = responseTime - 1000; missed >= 1000; missed -= 1000) corrected.push(missed);
        });
        instance.on('reqError', () => (errors += 1));
      }, delayMs);
    });
  await fromManyAddresses(Number(target.port), () => Promise.all(Array.from({ length: instances }, (_, k) => one((k * 1000) / instances))));
  const elapsed = (Date.now() - started) / 1000;
  const expected = rate * seconds;
  const answers = () => [...statuses].map(([code, count]) => `${code}: ${count}`).join(', ') || 'none';
  // A 4xx is the bench's own mistake (a link or form it got wrong) or a rate limit: no figure holds then.
  const refused = [...statuses].filter(([code, count]) => code >= 400 && code < 500 && !(code === 403 && count <= withoutForm));
  if (errors || refused.length || latenciesMs.length < expected) {
    throw new Error(
      `${target.origin}: ${latenciesMs.length} of ${expected} requests answered, ${errors} errors, answers ${answers()}` +
        (statuses.get(429) ? ' (429: a rate limit refused the load)' : ''),
    );
  }
  // A 5xx (e.g. 503 "not saved yet" when no worker answered in time) is the system's answer under this load: counted.
  const failed = [...statuses].filter(([code]) => code >= 500).reduce((n, [, count]) => n + count, 0);
  return { latenciesMs: [...latenciesMs, ...corrected], held: latenciesMs.length / elapsed, failed, withoutForm, answers: answers() };
}

/** The largest divisor of `n` that is at most `max`. */
function divisorUpTo(n: number, max: number): number {
  for (let d = Math.min(n, max); d > 1; d--) if (n % d === 0) return d;
  return 1;
}
