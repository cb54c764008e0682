import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNotificationActivities, type SendNotificationInput } from '../activities/notifications.js';
import { createLinkSigner } from '../src/links/signer.js';
import { notificationMessageId, senderDomain } from '../src/mail/message-id.js';
import { notificationKinds, type NotificationKind } from '../src/mail/notification-data.js';
import { formatDate, formatDateTime, NotificationDataError, renderNotification } from '../src/mail/templates.js';
import { createMailTransport, MailTransportError, type MailTransport } from '../src/mail/transport.js';
import { IN_MEMORY, openRecordsStore, type RecordsStore } from '../src/records/index.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.js';

const logger = pino({ level: 'silent' });
const from = 'aimsflow <aimsflow@aims.example.com>';
const signer = createLinkSigner({ secret: 'mail-test-secret-0123456789abcdefghij', ttlHours: 24, baseUrl: 'http://127.0.0.1:3000' });
const fastTimeouts = { connectionMs: 2000, greetingMs: 1000, socketMs: 2000, sendMs: 5000 };

let smtp: TestSmtpServer;
let store: RecordsStore;
let transport: MailTransport;
let activities: ReturnType<typeof createNotificationActivities>;

beforeAll(async () => {
  smtp = await startSmtpServer();
  store = await openRecordsStore({ dataDir: IN_MEMORY });
  transport = createMailTransport({ smtpUrl: smtp.url, from, logger, timeouts: fastTimeouts });
  activities = createNotificationActivities({ transport, notifications: store.notifications, from, logger });
});

afterAll(async () => {
  transport.close();
  await smtp.stop();
  await store.close();
});

afterEach(() => {
  smtp.rejectRecipients();
  smtp.clear();
});

const taskWf = 'human-task/corrective-action/NC-2027-004/root-cause';

async function taskLinks(person = 'p.mueller') {
  const token = await signer.sign({ wf: taskWf, action: 'task.view', person });
  const mine = await signer.sign({ wf: taskWf, action: 'tasks.mine', person });
  return { actionUrl: signer.url('/tasks/view', token), myTasksUrl: signer.url('/tasks/mine', mine) };
}

async function assignedInput(notificationId: string, title = 'Analyse the root cause of NC-2027-004'): Promise<SendNotificationInput> {
  return {
    notificationId,
    kind: 'task.assigned',
    to: [{ name: 'Petra Müller', email: 'petra@aims.example.com' }],
    data: {
      recipientName: 'Petra',
      organizationName: 'Acme AI GmbH',
      senderName: 'Dana Novak, AIMS manager',
      title,
      instructions: 'Describe the root cause.\n\nLink the evidence you used.',
      clauses: ['10.2', 'A.6.2.6'],
      dueDate: '2026-12-15T17:00:00Z',
      ...(await taskLinks()),
    },
  };
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('sendNotification through a real SMTP server', () => {
  it('delivers text and HTML with the signed link, a Message-ID derived from the notification id and the id header', async () => {
    const input = await assignedInput(`${taskWf}/assigned/1`);
    const result = await activities.sendNotification(input);

    const expectedId = notificationMessageId(input.notificationId, from);
    expect(result).toEqual({ notificationId: input.notificationId, messageId: expectedId, status: 'sent' });
    expect(expectedId).toMatch(/^<[0-9a-f]{32}\.aimsflow@aims\.example\.com>$/);

    const mail = await smtp.waitFor((m) => m.messageId === expectedId);
    expect(mail.subject).toBe('New task: Analyse the root cause of NC-2027-004 (due Tue 15 Dec 2026)');
    expect(mail.headers.get('x-aimsflow-notification-id')).toBe(input.notificationId);
    expect(mail.headers.get('x-aimsflow-kind')).toBe('task.assigned');
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    expect(mail.from?.value[0]?.address).toBe('aimsflow@aims.example.com');
    const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
    expect(to?.value[0]).toEqual({ name: 'Petra Müller', address: 'petra@aims.example.com' });

    const { actionUrl, myTasksUrl } = input.data as { actionUrl: string; myTasksUrl: string };
    expect(mail.text).toContain(actionUrl);
    expect(mail.text).toContain(`Open your tasks: ${myTasksUrl}`);
    expect(mail.text).toContain('Due: Tue 15 Dec 2026');
    expect(mail.text).toContain('ISO/IEC 42001: 10.2, A.6.2.6');
    expect(mail.text).toContain('From Dana Novak, AIMS manager, Acme AI GmbH');
    expect(mail.html).toBeTypeOf('string');
    const html = mail.html as string;
    expect(html).toContain(`href="${actionUrl}"`);
    expect(html).toContain(`href="${myTasksUrl}"`);
    expect(html).toContain('Open the task</a>');

    // The link that arrived is the link that was signed: it verifies for this person and action.
    const arrived = /http:\/\/127\.0\.0\.1:3000\/tasks\/view\?token=[\w.-]+/.exec(mail.text ?? '')?.[0];
    expect(arrived).toBe(actionUrl);
    const token = new URL(arrived ?? '').searchParams.get('token');
    await expect(signer.verify(token, { action: 'task.view', person: 'p.mueller' })).resolves.toMatchObject({ wf: taskWf });

    const logged = await store.notifications.find(input.notificationId);
    expect(logged).toMatchObject({ notificationId: input.notificationId, messageId: expectedId, recipients: ['petra@aims.example.com'] });
  });

  it('sends nothing more when retried with the same notification id', async () => {
    const input = await assignedInput(`${taskWf}/assigned/retry`);
    const first = await activities.sendNotification(input);
    const second = await activities.sendNotification(input);
    const third = await activities.sendNotification({ ...input, data: { ...input.data, title: 'changed on retry' } } as SendNotificationInput);

    expect(first.status).toBe('sent');
    expect(second).toEqual({ ...first, status: 'already-sent' });
    expect(third.status).toBe('already-sent');
    expect(smtp.messages).toHaveLength(1);

    const other = await activities.sendNotification({ ...input, notificationId: `${taskWf}/assigned/retry-2` });
    expect(other.status).toBe('sent');
    expect(other.messageId).not.toBe(first.messageId);
    expect(smtp.messages).toHaveLength(2);
  });

  it('threads a follow-up under an earlier notification and carries cc and an .ics attachment', async () => {
    const links = await taskLinks();
    const ics = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//aimsflow//test//EN\r\nEND:VCALENDAR\r\n';
    const input: SendNotificationInput = {
      notificationId: `${taskWf}/reminder/7d`,
      kind: 'task.reminder',
      threadWith: `${taskWf}/assigned/1`,
      to: [{ name: 'Petra Müller', email: 'petra@aims.example.com' }],
      cc: [{ name: 'Dana Novak', email: 'dana@aims.example.com' }],
      attachments: [{ filename: 'review.ics', content: ics, contentType: 'text/calendar; method=REQUEST; charset=utf-8' }],
      data: { recipientName: 'Petra', organizationName: 'Acme AI GmbH', title: 'Root cause', dueDate: '2026-12-15', ...links },
    };
    const result = await activities.sendNotification(input);
    const mail = await smtp.waitFor((m) => m.messageId === result.messageId);

    expect(mail.subject).toBe('Reminder: Root cause is due Tue 15 Dec 2026');
    expect(mail.inReplyTo).toBe(notificationMessageId(`${taskWf}/assigned/1`, from));
    const cc = Array.isArray(mail.cc) ? mail.cc[0] : mail.cc;
    expect(cc?.value[0]?.address).toBe('dana@aims.example.com');
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]?.filename).toBe('review.ics');
    expect(mail.attachments[0]?.contentType).toBe('text/calendar');
    expect(mail.attachments[0]?.content.toString('utf8')).toBe(ics);
    expect((await store.notifications.find(input.notificationId))?.recipients.sort()).toEqual([
      'dana@aims.example.com',
      'petra@aims.example.com',
    ]);
  });

  it('escapes user content in the HTML part', async () => {
    const title = '<script>alert("owned")</script> & <b>bold</b>';
    const input = await assignedInput(`${taskWf}/assigned/xss`, title);
    input.data.recipientName = '<img src=x onerror=alert(1)>';
    const result = await activities.sendNotification(input);
    const mail = await smtp.waitFor((m) => m.messageId === result.messageId);
    const html = mail.html as string;

    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>bold');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(html).toContain('Hello &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;,');
    // The plain-text part shows the text as written, and the subject stays one line.
    expect(mail.text).toContain(`"${title}"`);
    expect(mail.subject).toBe(`New task: ${title} (due Tue 15 Dec 2026)`);
  });

  it('refuses bad input without retry, naming the field, and sends nothing', async () => {
    const good = await assignedInput(`${taskWf}/assigned/bad`);
    const cases: [unknown, RegExp][] = [
      [{ ...good, data: { ...good.data, actionUrl: undefined } }, /data\.actionUrl/],
      [{ ...good, data: { ...good.data, actionUrl: 'javascript:alert(1)' } }, /data\.actionUrl: must be an http\(s\) URL/],
      [{ ...good, data: { ...good.data, dueDate: 'next Tuesday' } }, /data\.dueDate: must be an ISO-8601/],
      [{ ...good, data: { ...good.data, clauses: ['10.2', 7] } }, /data\.clauses\.1/],
      [{ ...good, kind: 'task.exploded' }, /kind: must be one of task\.assigned/],
      [{ ...good, to: [{ name: 'Petra', email: 'not-an-address' }] }, /to\.0\.email: must be an e-mail address/],
      [{ ...good, to: [] }, /to: needs at least one recipient/],
      [{ ...good, notificationId: '' }, /notificationId: must not be empty/],
      [{ ...good, attachments: [{ filename: '../etc/passwd', content: 'x', contentType: 'text/plain' }] }, /attachments\.0\.filename/],
      [{ ...good, kind: 'task.escalated' }, /data\.escalationLevel.*data\.assigneeName|data\.assigneeName.*data\.escalationLevel/],
      [null, /\(input\): must be an object/],
      [{ ...good, data: 'not an object' }, /Invalid task\.assigned notification: data: /],
    ];
    for (const [input, field] of cases) {
      const err = await failureOf(activities.sendNotification(input as SendNotificationInput));
      expect(err).toBeInstanceOf(ApplicationFailure);
      const failure = err as ApplicationFailure;
      expect(failure.nonRetryable).toBe(true);
      expect(failure.type).toBe('InvalidInput');
      expect(failure.message).toMatch(field);
    }
    expect(smtp.messages).toHaveLength(0);
    expect(await store.notifications.find(good.notificationId)).toBeUndefined();
  });

  it('throws a retryable error when the server refuses the recipient, and sends once it accepts again', async () => {
    const input = await assignedInput(`${taskWf}/assigned/refused`);
    smtp.rejectRecipients(() => true);
    const err = await failureOf(activities.sendNotification(input));
    expect(err).toBeInstanceOf(MailTransportError);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect((err as MailTransportError).message).toMatch(/SMTP send via 127\.0\.0\.1:\d+ failed/);
    expect((err as MailTransportError).responseCode).toBe(550);
    // The server's words and the command they answered are in the failure.
    expect((err as MailTransportError).command).toBe('RCPT TO');
    expect((err as MailTransportError).response).toMatch(/^550 /);
    expect((err as MailTransportError).message).toContain((err as MailTransportError).response);
    expect((err as MailTransportError).message).toMatch(/command RCPT TO/);
    expect(await store.notifications.find(input.notificationId)).toBeUndefined();
    expect(smtp.messages).toHaveLength(0);

    smtp.rejectRecipients();
    const retried = await activities.sendNotification(input);
    expect(retried.status).toBe('sent');
    expect(smtp.messages).toHaveLength(1);
  });

  it('throws a retryable error when the server is down', async () => {
    const gone = await startSmtpServer();
    await gone.stop();
    const deadTransport = createMailTransport({ smtpUrl: gone.url, from, logger, timeouts: fastTimeouts });
    try {
      const dead = createNotificationActivities({ transport: deadTransport, notifications: store.notifications, from, logger });
      const input = await assignedInput(`${taskWf}/assigned/down`);
      const err = await failureOf(dead.sendNotification(input));
      expect(err).toBeInstanceOf(MailTransportError);
      expect((err as MailTransportError).message).toMatch(/failed: connect ECONNREFUSED 127\.0\.0\.1:\d+ \(ESOCKET, command CONN\)$/);
      expect((err as MailTransportError).code).toBe('ESOCKET');
      expect((err as MailTransportError).permanent).toBe(false);
      expect(await store.notifications.find(input.notificationId)).toBeUndefined();
      await expect(deadTransport.verify()).rejects.toThrow(/is not usable: connect ECONNREFUSED .*\(ESOCKET, command CONN\)/);
    } finally {
      deadTransport.close();
    }
  });

  it('names what a server said when it turns the connection away, in the failure and in the log line', async () => {
    const busy = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end('421 4.3.2 Too busy, try again later\r\n');
    });
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as AddressInfo;
    const lines: string[] = [];
    const captured = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const refused = createMailTransport({ smtpUrl: `smtp://127.0.0.1:${port}`, from, logger: captured, timeouts: fastTimeouts });
    try {
      const input = await assignedInput(`${taskWf}/assigned/busy`);
      const err = await failureOf(refused.send({ to: input.to, ...renderNotification('task.assigned', input.data) }));
      expect(err).toBeInstanceOf(MailTransportError);
      const failure = err as MailTransportError;
      expect(failure.message).toMatch(/^SMTP send via 127\.0\.0\.1:\d+ failed: .*421 4\.3\.2 Too busy, try again later.*\(EPROTOCOL, command CONN\)$/);
      expect(failure.responseCode).toBe(421);
      expect(failure.permanent).toBe(false);
      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'mail send failed');
      expect(logged).toMatchObject({
        code: 'EPROTOCOL',
        command: 'CONN',
        responseCode: 421,
        response: '421 4.3.2 Too busy, try again later',
        error: expect.stringContaining('Too busy') as unknown,
      });
    } finally {
      refused.close();
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });

  it('gives up on a server that accepts the connection but never greets', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const stalled = createMailTransport({ smtpUrl: `smtp://127.0.0.1:${port}`, from, logger, timeouts: { ...fastTimeouts, greetingMs: 300 } });
    try {
      const input = await assignedInput(`${taskWf}/assigned/stalled`);
      const rendered = renderNotification('task.assigned', input.data);
      const err = await failureOf(stalled.send({ to: input.to, ...rendered }));
      expect(err).toBeInstanceOf(MailTransportError);
      expect((err as MailTransportError).message).toMatch(/Greeting never received \(ETIMEDOUT, command CONN\)$/);
    } finally {
      stalled.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('notification templates', () => {
  const urls = { actionUrl: 'https://aims.example.com/tasks/view?token=a.b.c', myTasksUrl: 'https://aims.example.com/tasks/mine?token=d.e.f' };
  const common = { recipientName: 'Petra', organizationName: 'Acme AI GmbH', title: 'Management review 2027', ...urls };
  const samples: Record<NotificationKind, Record<string, unknown>> = {
    'task.assigned': { ...common },
    'task.reminder': { ...common, dueDate: '2026-12-15T17:00:00Z' },
    'task.escalated': { ...common, dueDate: '2026-12-15T17:00:00Z', escalationLevel: 1, assigneeName: 'Bob Stone' },
    'task.completed': { ...common, completedAt: '2026-12-10T08:30:00Z', comment: 'Evidence attached' },
    'task.cancelled': { ...common, reason: 'Duplicate of NC-2027-003' },
    'task.reassigned': { ...common, newAssigneeName: 'Carla Diaz', reason: 'Petra is on leave' },
    'task.due-changed': { ...common, dueDate: '2027-01-20T17:00:00Z', previousDueDate: '2027-01-10T17:00:00Z', reason: 'Vendor logs late' },
    'approval.requested': { ...common, preparerName: 'Dana Novak', rule: '2 of 3 approvers', dueDate: '2027-01-10' },
    'approval.reminder': { ...common, preparerName: 'Dana Novak', dueDate: '2027-01-10' },
    'approval.escalated': { ...common, dueDate: '2027-01-10', escalationLevel: 2, approverName: 'Eve Ross' },
    'approval.decided': { ...common, decision: 'rejected', deciderName: 'Frank Hill', decidedAt: '2027-01-09T16:45:00+01:00', comment: 'Add the risk section' },
    'nc.escalated': { ...common, ownerName: 'Bob Stone', severity: 'major', targetDate: '2027-03-01T09:00:00Z', stateText: 'root cause analysis' },
    'nc.closed': { ...common, closedAt: '2027-05-02T10:00:00Z', notEffectiveCount: 1 },
    'concern.rejected': { ...common, reference: 'concern/2027/k3m9x2qa', reportedAt: '2027-01-10T08:30:00Z', reason: 'Already covered by NC-2027-004.' },
    'internal-audit.invitation': { ...common, windowText: '2027-03-01 to 2027-03-05', change: 'rescheduled', auditorName: 'Aisha Khan', auditeeName: 'Sofia Lind' },
    'internal-audit.reminder': { ...common, windowText: '2027-03-01 to 2027-03-05', auditeeName: 'Sofia Lind' },
    'internal-audit.escalated': { ...common, windowText: '2027-03-01 to 2027-03-05', auditorName: 'Aisha Khan', stateText: 'not started' },
    'internal-audit.report': { ...common, windowText: '2027-03-01 to 2027-03-05', auditorName: 'Aisha Khan', findingsText: '1 major NC, 0 minor NCs, 2 observations, 0 opportunities for improvement' },
    'certification.reminder': { ...common, dueDate: '2027-02-22', auditName: 'Stage 2 audit', bodyName: 'Meridian Certification', certificateId: 'CERT-2027-01' },
    'certification.readiness': { ...common, dueDate: '2027-02-22', auditName: 'Stage 2 audit', certificateId: 'CERT-2027-01', ready: false, checks: ['Open major nonconformities: none'] },
    'operations.workflow-failed': { ...common, workflowId: 'corrective-action/NC-2027-004', workflowType: 'correctiveAction', runId: 'r1', failure: 'Activity task failed' },
    'organization.handover-summary': { ...common, movedLines: ['Task (task/adhoc/2027/x): assignee to marco.rossi'], notMovedLines: [] },
    'certification.escalated': { ...common, dueDate: '2027-02-22', auditName: 'Stage 2 audit', certificateId: 'CERT-2027-01', problem: 'window missed' },
    'management-review.invitation': { ...common, meetingText: 'Mon 15 Mar 2027, 10:00 to 12:00 UTC', inputsDueDate: '2027-03-01T10:00:00Z' },
    'management-review.cancelled': { ...common, meetingText: 'Mon 15 Mar 2027, 10:00 to 12:00 UTC', reason: 'Merged into the H2 review' },
    'management-review.pack': { ...common, meetingText: 'Mon 15 Mar 2027, 10:00 to 12:00 UTC', suppliedInputs: 4, missingInputs: 1, packHash: 'a'.repeat(64) },
    'impact-assessment.not-completed': { ...common, dueDate: '2027-03-01', nextStartAt: '2027-03-31T09:00:00Z', reason: 'the sign-off was cancelled' },
    'objective.at-risk': { ...common, valueText: '92 % against a target of 95 % (at-risk threshold 90 %)', evaluationText: 'off target', missesInRow: 1 },
    'work.handed-over': { ...common, part: 'the owner of NC-2027-004', fromName: 'Sofia Lind', toName: 'Marco Rossi', reason: 'Sofia left the company' },
    'ledger.anchor': { ...common, seq: 42, hash: 'a'.repeat(64), anchoredAt: '2027-01-24T02:00:00Z', anchorText: `42:${'a'.repeat(64)}` },
    'link.renewed': { ...common, expiresAt: '2027-01-24T09:00:00Z' },
  };

  it.each(notificationKinds)('renders %s as text and HTML with the shared layout', (kind) => {
    const rendered = renderNotification(kind, samples[kind]);
    // External-audit mails name the audit and the certificate instead of the title.
    // The ledger anchor names the record it anchors.
    const identity = kind.startsWith('certification.') ? 'CERT-2027-01' : kind === 'ledger.anchor' ? 'record 42' : 'Management review 2027';
    expect(rendered.subject).toContain(identity);
    expect(rendered.subject).not.toMatch(/\n/);
    for (const part of [rendered.text, rendered.html]) {
      expect(part).toContain('Hello Petra,');
      expect(part).toContain(identity);
      expect(part).toContain(`Open your tasks: ${part === rendered.html ? `<a href="${urls.myTasksUrl}"` : urls.myTasksUrl}`);
      expect(part).toContain('From the AIMS team, Acme AI GmbH');
      expect(part).toContain(urls.actionUrl);
    }
    expect(rendered.html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    expect(rendered.html).toContain('<h1');
  });

  it('turns a console page named in the instructions into an address on the site of the mail', () => {
    const site = new URL(urls.actionUrl).origin;
    const rendered = renderNotification('task.assigned', { ...common, instructions: "Plan it in the console's audit planner (/console/plan/audit-programme/2027), or through PUT /admin/internal-audit-programmes/2027/plan." });
    expect(rendered.text).toContain(`audit planner (${site}/console/plan/audit-programme/2027), or through PUT /admin/internal-audit-programmes/2027/plan.`);
    expect(rendered.html).toContain(`${site}/console/plan/audit-programme/2027`);
  });

  it('fills each kind with its own facts', () => {
    expect(renderNotification('task.escalated', samples['task.escalated']).text).toContain(
      'assigned to Bob Stone, was due on Tue 15 Dec 2026 and is still open. It has been escalated to you (escalation level 1).',
    );
    const decided = renderNotification('approval.decided', samples['approval.decided']);
    expect(decided.subject).toBe('Rejected: Management review 2027');
    expect(decided.text).toContain('Frank Hill rejected "Management review 2027" on Sat 9 Jan 2027, 15:45 UTC.');
    expect(decided.text).toContain('Comment: Add the risk section');
    const approved = renderNotification('approval.decided', { ...samples['approval.decided'], decision: 'approved' });
    expect(approved.subject).toBe('Approved: Management review 2027');
    const expired = renderNotification('approval.decided', { ...samples['approval.decided'], decision: 'expired', deciderName: 'nobody' });
    expect(expired.subject).toBe('Expired without a decision: Management review 2027');
    expect(renderNotification('task.due-changed', samples['task.due-changed']).text).toContain(
      'moved from Sun 10 Jan 2027, 17:00 UTC to Wed 20 Jan 2027',
    );
    expect(renderNotification('task.cancelled', samples['task.cancelled']).text).toContain('Reason: Duplicate of NC-2027-003');
    expect(renderNotification('link.renewed', samples['link.renewed']).text).toContain('This link works until Sun 24 Jan 2027, 09:00 UTC.');
    const handedOver = renderNotification('work.handed-over', { ...samples['work.handed-over'], note: 'Top management names another auditor.' }).text;
    expect(handedOver).toContain('Sofia Lind held the owner of NC-2027-004 in "Management review 2027". It now goes to Marco Rossi.');
    expect(handedOver).toContain('Top management names another auditor.');
    expect(handedOver).toContain('Reason: Sofia left the company');
    expect(renderNotification('approval.requested', samples['approval.requested']).subject).toBe(
      'Approval needed: Management review 2027 (by Sun 10 Jan 2027)',
    );
  });

  it('leaves the button out of a report without a link', () => {
    const { actionUrl: _omit, ...withoutLink } = samples['task.cancelled'];
    const rendered = renderNotification('task.cancelled', withoutLink);
    expect(rendered.text).not.toContain('View the task');
    expect(rendered.html).not.toContain('View the task');
    expect(rendered.text).toContain(urls.myTasksUrl);
  });

  it('names every bad field', () => {
    const err = (() => {
      try {
        renderNotification('task.escalated', { ...common, recipientName: '', dueDate: '15/12/2026', escalationLevel: 0 });
      } catch (e) {
        return e;
      }
      throw new Error('expected a NotificationDataError');
    })();
    expect(err).toBeInstanceOf(NotificationDataError);
    const paths = (err as NotificationDataError).issues.map((i) => i.path).sort();
    expect(paths).toEqual(['assigneeName', 'dueDate', 'escalationLevel', 'recipientName']);
    expect((err as Error).message).toMatch(/^Invalid task\.escalated notification data: /);
    expect((err as Error).message).toContain('escalationLevel: must be at least 1');
    expect(() => renderNotification('task.unknown', {})).toThrow(/kind: must be one of/);
    expect(() => renderNotification('task.assigned', { ...common, title: 'two\nlines' })).toThrow(/title: must be a single line/);
  });

  it('formats dates in UTC', () => {
    expect(formatDate('2026-12-15T23:30:00-05:00')).toBe('Wed 16 Dec 2026');
    expect(formatDate('2026-12-15')).toBe('Tue 15 Dec 2026');
    expect(formatDateTime('2026-12-15T09:05:00+02:00')).toBe('Tue 15 Dec 2026, 07:05 UTC');
    expect(formatDateTime('2026-12-15')).toBe('Tue 15 Dec 2026');
  });

  it('derives the Message-ID domain from the sender address', () => {
    expect(senderDomain('aimsflow <aimsflow@AIMS.example.com>')).toBe('aims.example.com');
    expect(senderDomain('no address here')).toBe('aimsflow.invalid');
    expect(notificationMessageId('x', from)).toBe(notificationMessageId('x', from));
    expect(notificationMessageId('x', from)).not.toBe(notificationMessageId('y', from));
  });
});
