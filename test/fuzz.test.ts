/**
 * The API under a schema-driven fuzzer: schemathesis reads the served `/openapi.json` and sends
 * generated requests, valid and invalid, to every operation of an API listening on a real
 * port, with the admin key, over a real stack (the shared Temporal dev server, a worker, PGlite
 * records, the test SMTP server). Whatever it sends, the API never answers 5xx, every answer
 * is one the document declares (status code, content type, headers and body schema), and
 * nothing it accepted breaks a workflow: afterwards no workflow in its namespace has failed or
 * is stuck on a failing workflow task.
 *
 * The stack runs in a namespace of its own, so the ids the fuzzer makes up never meet those of
 * other test files. A few workflows are started first (a task, an approval, an NC, a
 * management review, an internal audit programme, a certification cycle, the inventory's AI
 * systems, both yearly schedules) and their ids offered to the fuzzer as path parameters, so
 * that requests reach running workflows and not only 404s.
 *
 * Bounded: FUZZ_MAX_EXAMPLES cases per operation and phase (default 10) with a fixed FUZZ_SEED
 * and one schemathesis worker, so the same code gets the same requests (about 5,400 in 50 s). Without schemathesis (`SCHEMATHESIS`,
 * `schemathesis` on PATH, or the venv `.ci/run` installs) the test is skipped with the reason.
 * Its full output is kept in .test-results/fuzz/.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { pino } from 'pino';
import { z } from 'zod';
import type { ApiInstance } from '../src/api/app.js';
import { loggerOptions } from '../src/logger.js';
import { findSchemathesis, optionalPart } from '../scripts/lib/parts.js';
import { freePort } from '../scripts/lib/wait.js';
import { TEST_ADMIN_KEY } from './helpers/api.js';
import { buildStackApp, TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { createTestNamespace, inMs, startTestStack, type TestStack } from './helpers/temporal.js';

const part = optionalPart('schemathesis (API fuzzer)');
if (!part.here) console.warn(`fuzz: skipped: ${part.skipReason}`);

const MAX_EXAMPLES = Number(process.env.FUZZ_MAX_EXAMPLES ?? 10);
const SEED = Number(process.env.FUZZ_SEED ?? 42014);

/**
 * Every check that holds for this API. Left out: `positive_data_acceptance` (a request the
 * schema allows may still break a rule the schema cannot express: an unknown person, a
 * window in the past, a refused impartiality) and `unsupported_method` (a method a path does
 * not have is a 404, as for any unknown route, not a 405).
 */
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  'negative_data_rejection',
  'missing_required_header',
  'ignored_auth',
  'use_after_free',
  'ensure_resource_availability',
];

/** Fewer operations tested than this means the document or the run lost some. */
const MIN_OPERATIONS = 60;
/** The whole schemathesis run; generous for two busy cores. */
const RUN_TIMEOUT_MS = 10 * 60_000;
const outputDir = path.resolve(import.meta.dirname, '..', '.test-results', 'fuzz');

/** The parts of schemathesis's JSON run report (`--report json`) the test reads. */
const runReportSchema = z.looseObject({
  exit_code: z.number(),
  operations: z.looseObject({ total: z.number(), selected: z.number(), tested: z.number() }),
  test_cases: z.looseObject({ generated: z.number() }),
  /** One group per kind of failure; `code` ST101 is a server error. */
  failures: z.array(z.looseObject({ code: z.string(), title: z.string(), count: z.number(), operations: z.array(z.string()) })),
  errors: z.array(z.looseObject({ title: z.string(), count: z.number() })),
});

interface StRun {
  code: number;
  output: string;
}

/** Runs `st` in `cwd` (where it keeps its caches). */
function runSchemathesis(st: string, args: string[], cwd: string): Promise<StRun> {
  return new Promise((resolve) => {
    execFile(
      st,
      args,
      { cwd, timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

/** Why the workflow's last workflow task failed, from its history. */
async function lastTaskFailure(handle: WorkflowHandle): Promise<string> {
  const events = (await handle.fetchHistory()).events ?? [];
  const failed = events.map((e) => e.workflowTaskFailedEventAttributes).filter((a) => a != null).at(-1);
  return failed ? `cause ${String(failed.cause)}: ${failed.failure?.message ?? 'no message'}` : 'no failed workflow task in its history';
}

/** The workflows in the stack's namespace that failed or keep failing a workflow task, with why. */
async function brokenWorkflows(stack: TestStack): Promise<{ checked: number; problems: string[] }> {
  const problems: string[] = [];
  let checked = 0;
  for await (const wf of stack.client.workflow.list()) {
    checked++;
    const handle = stack.client.workflow.getHandle(wf.workflowId, wf.runId);
    if (wf.status.name === 'FAILED') {
      const why = await handle.result().then(
        () => 'no failure',
        (err: unknown) => (err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : String(err)),
      );
      problems.push(`${wf.workflowId} (${wf.type}) failed: ${why}`);
    } else if (wf.status.name === 'RUNNING') {
      const attempt = (await handle.describe()).raw.pendingWorkflowTask?.attempt ?? 0;
      if (attempt > 2) problems.push(`${wf.workflowId} (${wf.type}): workflow task failing, attempt ${attempt}: ${await lastTaskFailure(handle)}`);
    }
  }
  return { checked, problems };
}

/** Real ids to offer the fuzzer, by path parameter name. */
type Seeds = Record<string, Array<string | number>>;

/** Starts one of each kind of workflow through the API and returns their ids. */
async function seed(base: string): Promise<Seeds> {
  const post = async (url: string, body: unknown, method = 'POST') => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { ...TEST_ADMIN_HEADERS, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`seeding ${method} ${url}: ${res.status} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const quiet = { reminderOffsets: [], escalation: [] };
  const day = 86_400_000;
  const year = new Date().getUTCFullYear() + 1;
  const suffix = Math.random().toString(36).slice(2, 8).toUpperCase();

  const task = await post('/admin/tasks', {
    title: 'Evidence for the fraud model monitoring review',
    instructions: 'Link the monitoring dashboard.',
    clauses: ['9.1'],
    process: 'ai-system-lifecycle',
    assignee: { person: 'sofia.lind' },
    dueAt: inMs(7 * day),
    form: 'evidence',
    policy: quiet,
  });
  const approval = await post('/admin/approvals', {
    kind: 'risk-acceptance',
    title: 'Accept the residual risk of the fraud model',
    summary: 'Residual risk: false positives on small merchants.',
    contentUrl: 'https://aims.northwind.example/risks/R-17',
    contentHash: 'a'.repeat(64),
    approvers: [{ role: 'top-management' }],
    rule: { type: 'all' },
    preparer: 'priya.raman',
    process: 'ai-risk-management',
    clauses: ['6.1.3'],
    dueAt: inMs(5 * day),
    policy: quiet,
  });
  const nc = await post('/admin/nonconformities', {
    title: 'Fraud model retrained without the approved data sheet',
    description: 'The March retraining used a data extract that had no approved data sheet.',
    severity: 'minor',
    source: 'admin',
    clauses: ['A.7.5'],
    aiSystem: 'fraud-detection',
    owner: 'sofia.lind',
    raisedBy: 'priya.raman',
    policy: { stepDue: '1h', tasks: quiet },
  });
  const reviewId = `${year}-fz${suffix.toLowerCase()}`;
  await post('/admin/management-reviews', {
    reviewId,
    meetingDate: new Date(Date.now() + 30 * day).toISOString().slice(0, 10),
    requestedBy: 'priya.raman',
    policy: { inputsDue: '1h', tasks: quiet },
  });
  await post('/admin/internal-audit-programmes', {
    year,
    audits: [
      {
        auditId: 'A-01',
        title: 'Data management for AI systems',
        scope: { clauses: ['8.2', '8.4'], controls: ['A.7.2'], processes: ['data-management'] },
        window: { start: `${year}-03-01`, end: `${year}-03-05` },
        leadAuditor: 'aisha.khan',
        auditee: 'sofia.lind',
      },
    ],
    policy: { tasks: quiet },
  });
  const certificateId = `CERT-FZ${suffix}`;
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  await post('/admin/certifications', {
    certificateId,
    certificate: { decisionDate: iso(now - day), expiresOn: iso(now + 1000 * day) },
    plan: { surveillance1: iso(now + 100 * day), surveillance2: iso(now + 500 * day), recertification: iso(now + 900 * day) },
    policy: { reminderOffsets: [], readinessChecks: [], correctiveAction: { stepDue: '1h', tasks: quiet } },
  });
  await post('/admin/ai-systems/sync', {});
  await post('/admin/schedules/internal-audit-programme', { month: 12, day: 1, yearOffset: 1, paused: true }, 'PUT');
  await post('/admin/schedules/management-review', { month: 10, day: 1, meetingAfter: '45d', paused: true }, 'PUT');

  return {
    id: [String(task.workflowId), String(approval.workflowId), 'sofia.lind', 'priya.raman'],
    ncId: [String(nc.ncId)],
    reviewId: [reviewId],
    year: [year],
    auditId: ['A-01'],
    certificateId: [certificateId],
    systemId: ['credit-scoring', 'fraud-detection', 'support-assistant'],
  };
}

/** A schemathesis configuration offering `seeds` for the path parameters of those names, half the time. */
function configToml(seeds: Seeds): string {
  const lines = ['[parameters]'];
  for (const name of Object.keys(seeds)) lines.push(`"path.${name}" = { dictionary = "${name}", probability = 0.5 }`);
  for (const [name, values] of Object.entries(seeds)) {
    lines.push('', `[dictionaries.${name}]`, `values = ${JSON.stringify(values)}`);
  }
  return `${lines.join('\n')}\n`;
}

describe.skipIf(!part.here)('the API under schemathesis', () => {
  let stack: TestStack;
  let app: ApiInstance;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const namespace = await createTestNamespace('fuzz');
    stack = await startTestStack({ publicBaseUrl: base, randomNcNumbers: true, namespace });
    await mkdir(outputDir, { recursive: true });
    // The API's warnings and errors (a 5xx's cause among them) go to .test-results/fuzz/api.log.
    const log = pino(loggerOptions('warn', false), pino.destination({ dest: path.join(outputDir, 'api.log'), sync: true, append: false }));
    app = await buildStackApp(stack, { logger: log });
    await app.listen({ host: '127.0.0.1', port });
  });

  afterAll(async () => {
    await app?.close();
    await stack?.stop();
  });

  it('answers every generated request without a server error, as the OpenAPI document says', { timeout: RUN_TIMEOUT_MS + 60_000 }, async () => {
    const found = findSchemathesis();
    if ('missing' in found) throw new Error(found.missing);
    const configFile = path.join(outputDir, 'schemathesis.toml');
    await writeFile(configFile, configToml(await seed(base)));
    const reportPath = path.join(outputDir, 'report.json');
    const run = await runSchemathesis(found.st, [
      '--config-file',
      configFile,
      'run',
      `${base}/openapi.json`,
      '--url',
      base,
      '--header',
      `Authorization: Bearer ${TEST_ADMIN_KEY}`,
      '--checks',
      CHECKS.join(','),
      '--max-examples',
      String(MAX_EXAMPLES),
      '--seed',
      String(SEED),
      // One worker: the same requests in the same order for a seed (and CPython 3.11 can fail
      // compiling a module lazily imported by two threads at once).
      '--workers',
      '1',
      '--generation-database',
      'none',
      '--request-timeout',
      '30',
      '--no-color',
      '--report',
      'json',
      '--report-json-path',
      reportPath,
    ], outputDir);
    await writeFile(path.join(outputDir, 'schemathesis.txt'), run.output);
    const tail = run.output.slice(-20_000);
    const report = runReportSchema.parse(JSON.parse(await readFile(reportPath, 'utf8')));
    const { operations, test_cases: cases } = report;
    const count = (groups: Array<{ count: number }>) => groups.reduce((sum, g) => sum + g.count, 0);
    const serverErrors = count(report.failures.filter((f) => f.code === 'ST101'));
    console.log(
      `fuzz: ${operations.tested}/${operations.total} operations tested, ${cases.generated} requests, ` +
        `${serverErrors} server errors, ${count(report.failures)} failures, ${count(report.errors)} errors ` +
        `(seed ${SEED}, at most ${MAX_EXAMPLES} examples per operation and phase)`,
    );

    // Nothing the API accepted broke a workflow: none failed, none is stuck on a failing workflow task.
    const broken = await brokenWorkflows(stack);
    console.log(`fuzz: ${broken.checked} workflows started, ${broken.problems.length} broken`);
    await writeFile(path.join(outputDir, 'broken-workflows.txt'), broken.problems.join('\n'));

    expect(serverErrors, tail).toBe(0);
    expect(report.failures, tail).toEqual([]);
    expect(report.errors, tail).toEqual([]);
    expect(report.exit_code, tail).toBe(0);
    expect(run.code, tail).toBe(0);
    expect(operations.tested).toBeGreaterThanOrEqual(MIN_OPERATIONS);
    expect(cases.generated).toBeGreaterThan(operations.tested * MAX_EXAMPLES);
    expect(broken.checked).toBeGreaterThan(0);
    expect(broken.problems).toEqual([]);

  });
});
