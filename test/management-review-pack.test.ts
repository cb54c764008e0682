/**
 * The parts of the management review outside the workflow: the sources that cannot be read
 * (shown as not available, never as zero), the printable pack, the meeting time in the
 * organization's timezone and the completed-review summary over a real ledger.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManagementReviewActivities, zonedInstant } from '../activities/management-review.js';
import type { ReviewPack } from '../src/management-review/schema.js';
import { renderPackHtml } from '../src/management-review/pack.js';
import { completedReviews } from '../src/management-review/summary.js';
import { openRecordsStore } from '../src/records/store.js';
import { contentHashOf } from '../src/records/hash.js';
import { parseOrganizationYaml } from '../src/organization/load.js';
import { exampleOrgFile, startTestStack, type TestStack } from './helpers/temporal.js';
import { readFile } from 'node:fs/promises';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const logger = pino({ level: 'silent' });

function samplePack(overrides: Partial<ReviewPack> = {}): ReviewPack {
  const body: Omit<ReviewPack, 'contentHash'> = {
    reviewId: '2027',
    workflowId: 'management-review/2027',
    organizationName: 'Northwind Lending Ltd',
    meetingDate: '2027-03-15',
    meetingStart: '2027-03-15T10:00:00.000Z',
    meetingEnd: '2027-03-15T12:00:00.000Z',
    builtAt: '2027-03-15T10:00:01.000Z',
    inputs: [
      {
        key: 'b',
        title: 'Changes in external and internal issues',
        owner: 'priya.raman',
        taskWorkflowId: 'management-review/2027/input-b',
        dueAt: '2027-03-01T10:00:00.000Z',
        state: 'supplied',
        suppliedBy: 'priya.raman',
        suppliedAt: '2027-02-27T09:30:00.000Z',
        text: 'New regulator guidance <script>alert(1)</script> & more',
      },
      {
        key: 'd',
        title: 'Information on the AI management system performance',
        owner: 'marco.rossi',
        taskWorkflowId: 'management-review/2027/input-d',
        dueAt: '2027-03-01T10:00:00.000Z',
        state: 'missing',
      },
    ],
    automatic: {
      collectedAt: '2027-03-15T10:00:00.000Z',
      period: { from: '2026-03-15T00:00:00.000Z', to: '2027-03-16T00:00:00.000Z' },
      previousActions: { available: false, reason: 'previous review: ledger offline' },
      nonconformities: { available: false, reason: 'Temporal visibility: deadline exceeded; evidence ledger: offline' },
      audits: { available: false, reason: 'evidence ledger: offline' },
    },
    ...overrides,
  };
  return { ...body, contentHash: contentHashOf(body) };
}

describe('management review pack and sources', () => {
  it('reports unreadable sources as not available with the reason, never as zero', async () => {
    const broken = await openRecordsStore({ dataDir: 'memory://', logger });
    await broken.close();
    const activities = createManagementReviewActivities({
      organization: () => stack.organization,
      records: broken,
      temporal: { client: stack.client, taskQueue: stack.taskQueue },
      sendNotification: () => Promise.reject(new Error('not used')),
      links: stack.links,
    });
    const sources = await activities.collectManagementReviewSources({
      workflowId: 'management-review/2027-broken',
      meetingDate: '2027-03-15',
      period: { from: '2026-03-15', to: '2027-03-15' },
    });
    expect(sources.previousActions.available).toBe(false);
    expect(sources.audits.available).toBe(false);
    expect(sources.audits.available ? '' : sources.audits.reason).toMatch(/\S/);
    // Visibility answers, the ledger does not: the source is there, with its ledger half marked unavailable.
    expect(sources.nonconformities).toMatchObject({ available: true, summary: { visibility: { available: true, total: 0 }, ledger: { available: false } } });
    expect(sources.period).toEqual({ from: '2026-03-15T00:00:00.000Z', to: '2027-03-16T00:00:00.000Z' });
    // Input (d): the risk register cannot be read either, and says so.
    expect(sources.risks).toMatchObject({ available: false });
    expect(sources.risks?.available ? '' : sources.risks?.reason).toMatch(/^risk register: \S/);

    const done = await completedReviews(broken, { from: '2026-01-01', to: '2027-12-31' });
    expect(done).toMatchObject({ available: false });
    expect((done as { reason: string }).reason).toContain('the evidence ledger could not be read');
  });

  it('renders a printable pack: inputs with their source, missing ones marked, unavailable sources with the reason, text escaped', () => {
    const pack = samplePack();
    const html = renderPackHtml(pack, { people: { 'priya.raman': 'Priya Raman', 'marco.rossi': 'Marco Rossi' } });
    expect(html).toContain('<!DOCTYPE html>');
    expect(html).toContain('@media print');
    expect(html).toContain('Supplied by Priya Raman on 27 Feb 2027, 09:30 UTC');
    expect(html).toContain('New regulator guidance &lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
    expect(html).not.toContain('<script>');
    expect(html).toContain('Missing: not supplied by the meeting.');
    expect(html).toContain('Requested from Marco Rossi');
    expect(html).toContain('Not available: Temporal visibility: deadline exceeded; evidence ledger: offline');
    expect(html).toContain('Not available: evidence ledger: offline');
    expect(html).toContain(pack.contentHash);
    expect(html).toContain('15 Mar 2027, 10:00 UTC to 12:00 UTC');
    expect(html).not.toContain('Results (9.3.3)');
    // Input (d) shows the risk register's figures when the pack has them.
    const withRisks = renderPackHtml(samplePack({ automatic: { ...pack.automatic, risks: { available: true, figures: { open: 3, openByLevel: { high: 1, medium: 2 }, overdueTreatments: [], acceptedResidual: [], reviewDue: 0 } } } }));
    expect(withRisks).toContain('<h3>AI risks</h3>');
    expect(withRisks).toContain('<tr><th>openByLevel.high</th><td>1</td></tr>');
    const risksDown = renderPackHtml(samplePack({ automatic: { ...pack.automatic, risks: { available: false, reason: 'risk register: offline' } } }));
    expect(risksDown).toContain('Not available: risk register: offline');

    const withMinutes = renderPackHtml(pack, {
      minutes: {
        by: 'priya.raman',
        attendees: ['hannah.okafor', 'priya.raman'],
        improvementDecisions: ['Automate the drift report'],
        changeDecisions: [],
        actions: [{ title: 'Automate it', owner: 'tom.baker', dueDate: '2027-06-30', input: 'e', nonconformity: false }],
        missingInputs: [
          { input: 'd', decision: 'action', action: { title: 'Supply the objective figures <b>now</b>', owner: 'marco.rossi', dueDate: '2027-04-15', nonconformity: false } },
        ],
        version: 2,
        recordedAt: '2027-03-15T13:00:00.000Z',
      },
      approvalHash: 'a'.repeat(64),
    });
    expect(withMinutes).toContain('Results (9.3.3): minutes, version 2');
    expect(withMinutes).toContain('Attendees: hannah.okafor, priya.raman');
    expect(withMinutes).toContain('Automate the drift report');
    expect(withMinutes).toContain('a'.repeat(64));
    // The decision on the missing input (d), and the action it adds, numbered after the others.
    expect(withMinutes).toContain('Decisions on inputs missing from the pack');
    expect(withMinutes).toContain(
      '<td>(d) Information on the AI management system performance</td><td class="text">action 2 supplies it: Supply the objective figures &lt;b&gt;now&lt;/b&gt; (owner marco.rossi, due 2027-04-15)</td>',
    );
    expect(withMinutes).toMatch(/<td>2<\/td><td>Supply the objective figures &lt;b&gt;now&lt;\/b&gt;<\/td><td>marco.rossi<\/td><td>2027-04-15<\/td><td>\(d\)<\/td>/);
    const accepted = renderPackHtml(pack, {
      minutes: {
        by: 'priya.raman',
        attendees: ['hannah.okafor'],
        improvementDecisions: [],
        changeDecisions: [],
        actions: [],
        missingInputs: [{ input: 'd', decision: 'accepted', reason: 'The figures were presented at the meeting from the dashboard' }],
        version: 1,
        recordedAt: '2027-03-15T13:00:00.000Z',
      },
    });
    expect(accepted).toContain('accepted as missing: The figures were presented at the meeting from the dashboard');
  });

  it('reads the managementReview settings of the organization file, with defaults, and refuses bad owners by field', async () => {
    const yaml = await readFile(exampleOrgFile, 'utf8');
    const example = parseOrganizationYaml(yaml, exampleOrgFile);
    expect(example.managementReview).toMatchObject({ inputOwners: { a: { role: 'aims-manager' }, d: { person: 'marco.rossi' } }, inputsDueBefore: '14d', approvalRule: { type: 'all' } });
    const withoutSection = parseOrganizationYaml(yaml.slice(0, yaml.indexOf('managementReview:')), exampleOrgFile);
    expect(withoutSection.managementReview).toEqual({
      inputOwners: { a: { role: 'aims-manager' }, b: { role: 'aims-manager' }, c: { role: 'aims-manager' }, d: { role: 'aims-manager' }, e: { role: 'aims-manager' } },
      inputsDueBefore: '14d',
      meetingTime: '10:00',
      meetingLength: '2h',
      attendees: [],
      approvalRule: { type: 'all' },
      approvalDue: '14d',
    });
    const bad = yaml
      .replace('d: { person: marco.rossi }', 'd: { role: process-owner, of: nothing }')
      .replace('attendees: [elena.petrova]', 'attendees: [zoe]')
      .replace('meetingTime: "10:00"', 'meetingTime: "25:00"');
    expect(() => parseOrganizationYaml(bad, 'org.yaml')).toThrow(
      /managementReview\.inputOwners\.d: no owner for process "nothing"[\s\S]*managementReview\.attendees\[0\]: unknown person "zoe"/,
    );
    expect(() => parseOrganizationYaml(bad, 'org.yaml')).toThrow(/managementReview\.meetingTime: must be a time as HH:MM/);
  });

  it('places the meeting at its local time in the organization timezone', () => {
    expect(new Date(zonedInstant('2027-07-01', '10:00', 'Europe/London')).toISOString()).toBe('2027-07-01T09:00:00.000Z');
    expect(new Date(zonedInstant('2027-01-15', '10:00', 'Europe/London')).toISOString()).toBe('2027-01-15T10:00:00.000Z');
    expect(new Date(zonedInstant('2027-01-15', '10:00', 'America/New_York')).toISOString()).toBe('2027-01-15T15:00:00.000Z');
    expect(new Date(zonedInstant('2027-01-15', '10:00', 'UTC')).toISOString()).toBe('2027-01-15T10:00:00.000Z');
  });

  it('lists completed reviews of a period from the ledger, once each', async () => {
    const records = await openRecordsStore({ dataDir: 'memory://', logger });
    try {
      const completed = (reviewId: string, approvedAt: string, actions: number) =>
        records.append({
          id: `management-review/${reviewId}/run/completed`,
          kind: 'management-review.completed',
          subject: `management-review/${reviewId}`,
          clauses: ['9.3'],
          actor: 'system',
          occurredAt: approvedAt,
          content: { reviewId, workflowId: `management-review/${reviewId}`, meetingDate: approvedAt.slice(0, 10), approvedAt, actions: Array.from({ length: actions }, (_, n) => ({ n })) },
        });
      await completed('2026', '2026-03-20T11:00:00.000Z', 1);
      await completed('2027-H1', '2027-03-20T11:00:00.000Z', 3);
      await completed('2027-H2', '2027-09-20T11:00:00.000Z', 0);
      await records.append({
        id: 'other',
        kind: 'management-review.pack',
        subject: 'management-review/2027-H1',
        clauses: ['9.3'],
        actor: 'system',
        occurredAt: '2027-03-15T11:00:00.000Z',
        content: {},
      });
      expect(await completedReviews(records, { from: '2027-01-01', to: '2027-06-30' })).toEqual([
        { reviewId: '2027-H1', workflowId: 'management-review/2027-H1', meetingDate: '2027-03-20', approvedAt: '2027-03-20T11:00:00.000Z', actions: 3 },
      ]);
      expect(await completedReviews(records, { from: '2026-01-01', to: '2027-09-20' })).toMatchObject([{ reviewId: '2026' }, { reviewId: '2027-H1' }, { reviewId: '2027-H2' }]);
      expect(await completedReviews(records, { from: '2028-01-01', to: '2028-12-31' })).toEqual([]);
    } finally {
      await records.close();
    }
  });
});
