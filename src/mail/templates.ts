/**
 * Notification e-mails: one registry entry per kind (subject, heading, body, button label),
 * rendered through a shared layout into both a plain-text and an HTML part with handlebars.
 *
 * Each body is written once as plain text (blank lines separate paragraphs). The text part
 * renders it unescaped; the HTML part renders the same template with HTML escaping, so every
 * value that came from data is escaped, and wraps each paragraph in `<p>`.
 */
import Handlebars from 'handlebars';
import type { z } from 'zod';
import {
  NotificationKind,
  notificationDataSchemas,
  type NotificationData,
} from './notification-data.js';

export { NotificationKind, notificationDataSchemas };
export type { NotificationData };

export interface RenderedNotification {
  subject: string;
  text: string;
  html: string;
}

export interface NotificationDataIssue {
  /** Dotted path of the field inside the data, e.g. `dueDate` or `clauses.2`. */
  path: string;
  message: string;
}

/** Unknown kind or bad data for a kind; the message names each bad field. */
export class NotificationDataError extends Error {
  readonly kind: string;
  readonly issues: NotificationDataIssue[];

  constructor(kind: string, issues: NotificationDataIssue[]) {
    super(`Invalid ${kind} notification data: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'NotificationDataError';
    this.kind = kind;
    this.issues = issues;
  }
}

/** How one kind reads. All four are handlebars templates over the validated data. */
interface TemplateSpec {
  subject: string;
  heading: string;
  /** Plain text; blank lines separate paragraphs. */
  body: string;
  /** The label of the button; the button opens `actionUrl` and is left out without one. */
  button: string;
}

/**
 * Besides the data fields, templates can use `dueDateText` and `<field>Text` for every
 * date field (e.g. `completedAtText`), formatted in UTC.
 */
const templates = {
  'task.assigned': {
    subject: 'New task: {{title}}{{#if dueDateText}} (due {{dueDateText}}){{/if}}',
    heading: 'A task for you',
    body: 'You have been asked to take care of "{{title}}".{{#if dueDateText}} It is due on {{dueDateText}}.{{/if}}\n\nOpen the task to see what is needed and to complete it.',
    button: 'Open the task',
  },
  'task.reminder': {
    subject: 'Reminder: {{title}} is due {{dueDateText}}',
    heading: 'A friendly reminder',
    body: 'Your task "{{title}}" is still open and is due on {{dueDateText}}.\n\nPlease complete it before then, or reply to whoever assigned it if something is in the way.',
    button: 'Complete the task',
  },
  'task.escalated': {
    subject: 'Overdue task escalated to you: {{title}}',
    heading: 'An overdue task needs your attention',
    body: 'The task "{{title}}", assigned to {{assigneeName}}, was due on {{dueDateText}} and is still open. It has been escalated to you (escalation level {{escalationLevel}}).\n\nPlease make sure it gets done: follow up with {{assigneeName}}, or reassign it.',
    button: 'See the task',
  },
  'task.completed': {
    subject: 'Completed: {{title}}',
    heading: 'Task completed',
    body: 'The task "{{title}}" was completed{{#if completedByName}} by {{completedByName}}{{/if}} on {{completedAtText}}.\n\nThis e-mail is your receipt; the submission is kept as evidence in the management system records.',
    button: 'View the task',
  },
  'task.cancelled': {
    subject: 'Cancelled: {{title}}',
    heading: 'Task cancelled',
    body: 'The task "{{title}}" has been cancelled. There is nothing more for you to do.',
    button: 'View the task',
  },
  'task.reassigned': {
    subject: 'Reassigned: {{title}}',
    heading: 'Task handed over',
    body: 'The task "{{title}}" has been reassigned to {{newAssigneeName}}. There is nothing more for you to do.',
    button: 'View the task',
  },
  'task.due-changed': {
    subject: 'New due date: {{title}} is now due {{dueDateText}}',
    heading: 'The due date has changed',
    body: 'The due date of "{{title}}" moved from {{previousDueDateText}} to {{dueDateText}}. Reminders and escalations follow the new date.',
    button: 'Open the task',
  },
  'approval.requested': {
    subject: 'Approval needed: {{title}}{{#if dueDateText}} (by {{dueDateText}}){{/if}}',
    heading: 'Your approval is needed',
    body: '{{preparerName}} asks you to approve "{{title}}".{{#if rule}} Approval rule: {{rule}}.{{/if}}\n\nOpen the approval to read exactly what you are approving, then approve or reject it with a comment.',
    button: 'Review and decide',
  },
  'approval.reminder': {
    subject: 'Reminder: approval of {{title}} is due {{dueDateText}}',
    heading: 'Your decision is still awaited',
    body: '{{preparerName}} is waiting for your decision on "{{title}}", due on {{dueDateText}}.',
    button: 'Review and decide',
  },
  'approval.escalated': {
    subject: 'Overdue approval escalated to you: {{title}}',
    heading: 'An overdue approval needs your attention',
    body: 'The approval of "{{title}}" by {{approverName}} was due on {{dueDateText}} and no decision has been made. It has been escalated to you (escalation level {{escalationLevel}}).',
    button: 'See the approval',
  },
  'approval.decided': {
    subject: '{{#if (eq decision "approved")}}Approved{{else if (eq decision "rejected")}}Rejected{{else if (eq decision "expired")}}Expired without a decision{{else}}Cancelled{{/if}}: {{title}}',
    heading: '{{#if (eq decision "approved")}}Approved{{else if (eq decision "rejected")}}Rejected{{else if (eq decision "expired")}}Expired{{else}}Cancelled{{/if}}',
    body: '{{#if (eq decision "expired")}}Nobody decided on "{{title}}" before it expired on {{decidedAtText}}.{{else if (eq decision "cancelled")}}The approval of "{{title}}" was cancelled on {{decidedAtText}}.{{else}}{{deciderName}} {{decision}} "{{title}}" on {{decidedAtText}}.{{/if}}{{#if (eq decision "rejected")}}\n\nPlease look at the comment, revise and submit it again.{{/if}}',
    button: 'View the approval',
  },
  'nc.escalated': {
    subject: 'Nonconformity past its target date: {{title}}',
    heading: 'A nonconformity is still open past its target date',
    body: 'The {{severity}} nonconformity "{{title}}", owned by {{ownerName}}, was to be closed by {{targetDateText}} and is still open: {{stateText}}.\n\nAs top management, please make sure the corrective action gets the attention and resources it needs.',
    button: 'See the nonconformity',
  },
  'nc.closed': {
    subject: 'Closed: {{title}}',
    heading: 'Nonconformity closed',
    body: 'The corrective action for "{{title}}" was reviewed as effective and the nonconformity was closed on {{closedAtText}}.{{#if notEffectiveCount}} Earlier reviews found it not effective {{notEffectiveCount}} time(s).{{/if}}\n\nThe nonconformity, the actions and their results are kept as evidence in the management system records.',
    button: 'See the nonconformity',
  },
  'concern.rejected': {
    subject: 'Your reported concern {{reference}}: {{title}}',
    heading: 'About the concern you reported',
    body: 'Thank you for reporting your concern "{{title}}" on {{reportedAtText}} (reference {{reference}}). The AIMS manager looked at it carefully and decided not to open a nonconformity for it; the reason is below.\n\nIf you have more information, or something similar happens again, please report it again.',
    button: 'Open',
  },
  'certification.reminder': {
    subject: 'Coming up: {{auditName}} by {{bodyName}} on {{dueDateText}} ({{certificateId}})',
    heading: 'An external audit is coming',
    body: 'The {{auditName}} of certificate {{certificateId}} by {{bodyName}} is planned for {{dueDateText}}.\n\nMake sure the internal audit and the management review covering the period are complete and the open corrective actions are closed or planned. The invitation is attached.',
    button: 'Open',
  },
  'certification.readiness': {
    subject: '{{#if ready}}Ready{{else}}Not ready yet{{/if}}: {{auditName}} on {{dueDateText}} ({{certificateId}})',
    heading: 'Readiness for the {{auditName}}',
    body: 'Readiness of certificate {{certificateId}} for the {{auditName}} on {{dueDateText}}: {{#if ready}}everything the body will ask for is in place.{{else}}some things still need attention.{{/if}}{{#each checks}}\n\n{{this}}{{/each}}',
    button: 'Open',
  },
  'organization.handover-summary': {
    subject: 'Work handed over: {{title}}',
    heading: 'Running work was handed over',
    body: '{{title}}.{{#if movedLines.length}}\n\nHanded over:{{#each movedLines}}\n- {{this}}{{/each}}{{else}}\n\nNothing needed to move.{{/if}}{{#if notMovedLines.length}}\n\nNot moved, for you to look at:{{#each notMovedLines}}\n- {{this}}{{/each}}{{/if}}',
    button: 'Open',
  },
  'operations.workflow-failed': {
    subject: 'Workflow failed: {{title}}',
    heading: 'A workflow failed',
    body: 'The workflow "{{title}}" (run {{runId}}) failed: {{failure}}\n\nIts work stopped. Look at it in the Temporal UI, fix the cause, and reset or restart it; `GET /admin/work?state=failed` lists every failed workflow.',
    button: 'Open',
  },
  'ledger.anchor': {
    subject: 'Evidence ledger anchor: record {{seq}} ({{anchoredAtText}})',
    heading: 'The evidence ledger head, for safekeeping',
    body:
      'On {{anchoredAtText}} the evidence ledger of {{organizationName}} ended at record {{seq}}, whose hash is\n\n{{hash}}\n\n' +
      'Keep this mail and its attachment (ledger-anchor-{{seq}}.json) outside aimsflow. They let you check later that no record up to {{seq}} was changed, ' +
      'even by someone who can rewrite the database and recompute the hash chain: verify with the anchor {{anchorText}}\n\n' +
      'Online: aimsflow records verify --anchor {{anchorText}} (or GET /admin/records/verify?anchor={{anchorText}}). ' +
      'Offline, on an exported audit pack: aimsflow records verify-pack <pack> --anchor-file ledger-anchor-{{seq}}.json. ' +
      'A changed record is named: the attachment holds the hash of every record since the previous anchor.' +
      '{{#if problem}}\n\nWarning: the ledger\'s own check found a break when this head was captured: {{problem}}{{/if}}',
    button: 'Open',
  },
  'certification.escalated': {
    subject: 'Certification at risk: {{auditName}} of {{certificateId}}',
    heading: 'The certificate needs your attention',
    body: 'Certificate {{certificateId}}: {{problem}}\n\nThe {{auditName}} was due on {{dueDateText}}. Please agree a date with the certification body and record the outcome, or record its decision.',
    button: 'Open',
  },
  'management-review.invitation': {
    subject: 'Invitation: {{title}}',
    heading: 'Management review meeting',
    body: 'You are invited to the meeting of {{title}} (ISO/IEC 42001 9.3) on {{meetingText}}; the invitation is attached for your calendar.\n\nThe inputs to the review are requested from their owners and due on {{inputsDueDateText}}. The review pack follows once they are in, or at the meeting at the latest.',
    button: 'Open',
  },
  'management-review.cancelled': {
    subject: 'Cancelled: {{title}}',
    heading: 'Management review cancelled',
    body: 'The meeting of {{title}} planned for {{meetingText}} is cancelled; the attached cancellation removes the meeting from your calendar. Open input tasks are withdrawn.',
    button: 'Open',
  },
  'management-review.pack': {
    subject: 'Review pack: {{title}}',
    heading: 'Management review pack',
    body: 'The review pack for {{title}} is attached as a printable document: {{suppliedInputs}} input(s) supplied{{#if missingInputs}}, {{missingInputs}} missing{{/if}}. The meeting is on {{meetingText}}; the updated invitation is attached.\n\nContent hash of the pack: {{packHash}}',
    button: 'Open',
  },
  'internal-audit.invitation': {
    subject: '{{#if (eq change "cancelled")}}Cancelled: {{else if (eq change "scheduled")}}Internal audit: {{else}}Internal audit updated: {{/if}}{{title}} ({{windowText}})',
    heading: '{{#if (eq change "cancelled")}}An internal audit was cancelled{{else if (eq change "rescheduled")}}An internal audit was moved{{else if (eq change "auditor-changed")}}An internal audit has a new lead auditor{{else}}An internal audit is planned{{/if}}',
    body: '{{#if (eq change "cancelled")}}The internal audit "{{title}}" planned for {{windowText}} will not take place. The calendar invitation attached removes it from your calendar.{{else}}The internal audit "{{title}}" takes place {{windowText}}. {{auditorName}} leads it and {{auditeeName}} is the auditee.{{#if (eq change "rescheduled")}} The window has changed; the attached invitation replaces the earlier one.{{/if}}{{#if (eq change "auditor-changed")}} The lead auditor has changed; the attached invitation replaces the earlier one.{{/if}}\n\nThe lead auditor will send the audit plan; the auditee is asked to acknowledge it.{{/if}}',
    button: 'Open',
  },
  'internal-audit.reminder': {
    subject: 'Coming up: internal audit {{title}} ({{windowText}})',
    heading: 'Your internal audit is coming up',
    body: 'You lead the internal audit "{{title}}" of {{auditeeName}}, planned for {{windowText}}.\n\nPlease prepare the audit plan (objectives, criteria, scope, schedule) so it can be sent to the auditee in time.',
    button: 'Open',
  },
  'internal-audit.escalated': {
    subject: 'Internal audit not started: {{title}} ({{windowText}})',
    heading: 'An internal audit was not started in its window',
    body: 'The internal audit "{{title}}", led by {{auditorName}}, was to take place {{windowText}} and its fieldwork has not started: {{stateText}}.\n\nPlease follow up with the auditor, reschedule the audit or give it to another auditor.',
    button: 'Open',
  },
  'internal-audit.report': {
    subject: 'Internal audit report: {{title}}',
    heading: 'Internal audit report',
    body: 'The report of the internal audit "{{title}}" ({{windowText}}), led by {{auditorName}}, was approved. Findings: {{findingsText}}.\n\nEach nonconformity has been raised as a corrective action with its owner. The findings are listed below.',
    button: 'Open',
  },
  'impact-assessment.not-completed': {
    subject: 'Impact assessment not completed: {{title}}',
    heading: 'An impact assessment did not complete',
    body: 'The impact assessment "{{title}}" ended without a signed-off record. ISO/IEC 42001 8.4 asks for the assessment at planned intervals, so the next one starts on {{nextStartAtText}}; the reassessment was planned for {{dueDateText}}.\n\nPlease make sure the system owner and AI governance can take part this time.',
    button: 'Open',
  },
  'work.handed-over': {
    subject: 'Handed over: {{part}} ({{title}})',
    heading: 'Work handed over',
    body: '{{fromName}} held {{part}} in "{{title}}". It now goes to {{toName}}.{{#if note}}\n\n{{note}}{{/if}}\n\nReminders, escalations and the next steps follow the new holder; the handover is kept in the management system records.',
    button: 'Open',
  },
  'objective.at-risk': {
    subject: 'Objective {{evaluationText}}: {{title}}',
    heading: 'An AI objective missed its target',
    body: 'The latest measurement of the objective "{{title}}" is {{evaluationText}}: {{valueText}}. Misses in a row: {{missesInRow}}.{{#if comment}}\n\nThe measurer noted: {{comment}}{{/if}}\n\nISO/IEC 42001 6.2 and 9.1 ask for the objective to be monitored and acted on; after two misses in a row you will be offered a corrective action.',
    button: 'Open',
  },
  'link.renewed': {
    subject: 'Your new link: {{title}}',
    heading: 'Here is a fresh link',
    body: 'You asked for a new link to "{{title}}" because the previous one had expired.{{#if expiresAtText}} This link works until {{expiresAtText}}.{{/if}}',
    button: 'Open',
  },
} satisfies Record<NotificationKind, TemplateSpec>;

const TEXT_LAYOUT = `{{heading}}

Hello {{recipientName}},

{{{body}}}
{{#if facts.length}}

{{#each facts}}
{{this}}
{{/each}}
{{/if}}
{{#if instructions}}

Instructions:
{{instructions}}
{{/if}}
{{#if reason}}

Reason: {{reason}}
{{/if}}
{{#if comment}}

Comment: {{comment}}
{{/if}}
{{#if actionUrl}}

{{button}}:
{{actionUrl}}
{{/if}}

--
{{#if myTasksUrl}}Open your tasks: {{myTasksUrl}}
{{/if}}From {{senderName}}, {{organizationName}}
`;

const HTML_LAYOUT = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>{{subject}}</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f4f5f7;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;background:#ffffff;border-radius:6px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#1f2328;">
<tr><td style="padding:24px 32px 0 32px;font-size:13px;color:#57606a;">{{organizationName}}</td></tr>
<tr><td style="padding:8px 32px 0 32px;">
<h1 style="margin:0 0 16px 0;font-size:22px;line-height:1.3;color:#1f2328;">{{heading}}</h1>
<p style="margin:0 0 16px 0;">Hello {{recipientName}},</p>
{{#each paragraphs}}<p style="margin:0 0 16px 0;">{{{this}}}</p>
{{/each}}
{{#if dueDateText}}<p style="margin:0 0 16px 0;"><strong>Due: {{dueDateText}}</strong></p>
{{/if}}
{{#if clausesText}}<p style="margin:0 0 16px 0;font-size:14px;color:#57606a;">ISO/IEC 42001: {{clausesText}}</p>
{{/if}}
{{#if instructions}}<h2 style="margin:0 0 8px 0;font-size:16px;">Instructions</h2>
{{#each instructionParagraphs}}<p style="margin:0 0 16px 0;white-space:pre-line;">{{this}}</p>
{{/each}}
{{/if}}
{{#if reason}}<p style="margin:0 0 16px 0;"><strong>Reason:</strong> <span style="white-space:pre-line;">{{reason}}</span></p>
{{/if}}
{{#if comment}}<p style="margin:0 0 16px 0;"><strong>Comment:</strong> <span style="white-space:pre-line;">{{comment}}</span></p>
{{/if}}
{{#if actionUrl}}<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:8px 0 24px 0;"><tr>
<td style="border-radius:6px;background:#0b5cad;"><a href="{{actionUrl}}" style="display:inline-block;padding:12px 24px;font-size:16px;font-weight:bold;color:#ffffff;text-decoration:none;border-radius:6px;">{{button}}</a></td>
</tr></table>
<p style="margin:0 0 16px 0;font-size:13px;color:#57606a;">If the button does not work, copy this link into your browser:<br><a href="{{actionUrl}}" style="color:#0b5cad;word-break:break-all;">{{actionUrl}}</a></p>
{{/if}}
</td></tr>
<tr><td style="padding:16px 32px 24px 32px;border-top:1px solid #d0d7de;font-size:13px;color:#57606a;">
{{#if myTasksUrl}}<p style="margin:0 0 8px 0;">Open your tasks: <a href="{{myTasksUrl}}" style="color:#0b5cad;">{{myTasksUrl}}</a></p>
{{/if}}
<p style="margin:0;">From {{senderName}}, {{organizationName}}</p>
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;

const hbs = Handlebars.create();
hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);

type Render = (view: Record<string, unknown>) => string;

const compileText = (source: string): Render => hbs.compile(source, { noEscape: true, strict: true });
const compileHtml = (source: string): Render => hbs.compile(source, { strict: true });

interface CompiledTemplate {
  schema: z.ZodObject;
  subject: Render;
  heading: Render;
  bodyText: Render;
  bodyHtml: Render;
  button: Render;
}

const compiled = new Map<NotificationKind, CompiledTemplate>(
  (Object.keys(templates) as NotificationKind[]).map((kind) => {
    const spec: TemplateSpec = templates[kind];
    return [
      kind,
      {
        schema: notificationDataSchemas[kind],
        subject: compileText(spec.subject),
        heading: compileText(spec.heading),
        bodyText: compileText(spec.body),
        bodyHtml: compileHtml(spec.body),
        button: compileText(spec.button),
      },
    ];
  }),
);

const renderTextLayout = compileText(TEXT_LAYOUT);
const renderHtmlLayout = compileHtml(HTML_LAYOUT);

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `2026-12-15T17:00:00Z` → `Tue 15 Dec 2026` (UTC). */
export function formatDate(iso: string): string {
  const d = new Date(iso);
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** `2026-12-15T17:05:00Z` → `Tue 15 Dec 2026, 17:05 UTC`; a date without a time → `Tue 15 Dec 2026`. */
export function formatDateTime(iso: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return formatDate(iso);
  const d = new Date(iso);
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${formatDate(iso)}, ${hh}:${mm} UTC`;
}

const DATE_TIME_FIELDS = ['anchoredAt', 'completedAt', 'decidedAt', 'expiresAt', 'previousDueDate', 'targetDate', 'closedAt', 'reportedAt', 'inputsDueDate', 'nextStartAt'] as const;

const HTML_ATTRIBUTE_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * A URL for an HTML attribute and text. Handlebars' default escaping also encodes `=`, which
 * is harmless in quoted attributes but hides the link from anyone searching the HTML for it.
 */
function htmlUrl(url: string): Handlebars.SafeString {
  return new hbs.SafeString(url.replace(/[&<>"']/g, (c) => HTML_ATTRIBUTE_ESCAPES[c] ?? c));
}

function paragraphs(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/** One line, for the subject header. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Validates `data` for `kind` (see NotificationData<kind> for its shape) and renders the e-mail.
 * Throws NotificationDataError naming the field for an unknown kind or bad data.
 */
export function renderNotification(kind: NotificationKind | (string & {}), data: unknown): RenderedNotification {
  const kindCheck = NotificationKind.safeParse(kind);
  if (!kindCheck.success) {
    throw new NotificationDataError(String(kind), [{ path: 'kind', message: kindCheck.error.issues[0]?.message ?? 'unknown kind' }]);
  }
  const template = compiled.get(kindCheck.data);
  if (!template) throw new NotificationDataError(kind, [{ path: 'kind', message: 'has no template' }]);

  const parsed = template.schema.safeParse(data);
  if (!parsed.success) {
    throw new NotificationDataError(
      kind,
      parsed.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.') || '(data)',
        message: issue.message,
      })),
    );
  }

  // Strict templates refuse unknown names, so every field of the schema is present (null when absent).
  const view: Record<string, unknown> = {};
  for (const field of Object.keys(template.schema.shape)) view[field] = null;
  Object.assign(view, parsed.data);
  view.senderName ??= 'the AIMS team';
  view.actionUrl ??= null;
  // A console page the instructions name (`/console/...`) becomes an address on the site the mail's own link points to.
  const site = typeof view.actionUrl === 'string' && URL.canParse(view.actionUrl) ? new URL(view.actionUrl).origin : undefined;
  if (site && typeof view.instructions === 'string') {
    view.instructions = view.instructions.replace(/(^|[\s(])(\/console\/[\w./-]*[\w/-])/g, (_m, before: string, path: string) => `${before}${site}${path}`);
  }
  const dueDateText = typeof view.dueDate === 'string' ? formatDate(view.dueDate) : null;
  view.dueDateText = dueDateText;
  for (const field of DATE_TIME_FIELDS) {
    const value = view[field];
    view[`${field}Text`] = typeof value === 'string' ? formatDateTime(value) : null;
  }

  const subject = oneLine(template.subject(view));
  const heading = oneLine(template.heading(view));
  const button = oneLine(template.button(view));
  const clauses = view.clauses as string[];
  const clausesText = clauses.length > 0 ? clauses.join(', ') : null;
  const facts = [
    ...(dueDateText ? [`Due: ${dueDateText}`] : []),
    ...(clausesText ? [`ISO/IEC 42001: ${clausesText}`] : []),
  ];
  const layoutView = {
    ...view,
    subject,
    heading,
    button,
    clausesText,
    facts,
    instructionParagraphs: typeof view.instructions === 'string' ? paragraphs(view.instructions) : [],
  };

  const text = renderTextLayout({ ...layoutView, body: paragraphs(template.bodyText(view)).join('\n\n') });
  const html = renderHtmlLayout({
    ...layoutView,
    actionUrl: typeof view.actionUrl === 'string' ? htmlUrl(view.actionUrl) : null,
    myTasksUrl: typeof view.myTasksUrl === 'string' ? htmlUrl(view.myTasksUrl) : null,
    paragraphs: paragraphs(template.bodyHtml(view)),
  });
  return { subject, text, html };
}
