/**
 * Notification kinds and the data each one needs, as zod schemas.
 *
 * Workflow-safe: imports only zod, so workflows can type (and pre-check) what they pass to
 * the `sendNotification` activity. The templates that turn this data into e-mails live in
 * `templates.ts`; adding a kind means adding a schema here and a template there.
 */
import { z } from 'zod';

const singleLine = (max: number) =>
  z
    .string({ error: 'must be text' })
    .trim()
    .min(1, 'is required')
    .max(max, `must be at most ${max} characters`)
    .regex(/^[^\p{Cc}]*$/u, 'must be a single line without control characters');

/** Optional free text; an empty string counts as absent. */
const optionalText = (max: number) =>
  z
    .string({ error: 'must be text' })
    .trim()
    .max(max, `must be at most ${max} characters`)
    .optional()
    .transform((value) => (value ? value : undefined));

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** An ISO-8601 date (`2026-12-15`) or date-time with offset (`2026-12-15T17:00:00Z`). */
const isoInstant = z
  .string({ error: 'must be an ISO-8601 date or date-time' })
  .refine(
    (value) => z.iso.datetime({ offset: true }).safeParse(value).success || z.iso.date().safeParse(value).success,
    'must be an ISO-8601 date or date-time, e.g. 2026-12-15 or 2026-12-15T17:00:00Z',
  );

const escalationLevel = z
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(10, 'must be at most 10');

/** Fields every notification carries. */
const baseFields = {
  /** How to greet the recipient. */
  recipientName: singleLine(200),
  /** The organization running the management system, shown in the footer. */
  organizationName: singleLine(200),
  /** Who the mail is from, e.g. `Dana Novak, AIMS manager`; defaults to the AIMS team. */
  senderName: singleLine(200).optional(),
  /** What the task, approval or review is about. */
  title: singleLine(300),
  /** Instructions or a summary, plain text; blank lines separate paragraphs. */
  instructions: optionalText(10_000),
  /** ISO/IEC 42001 clauses and Annex A controls, e.g. `['10.2', 'A.3.3']`. */
  clauses: z.array(singleLine(40)).max(50).default([]),
  /** When it is due. */
  dueDate: isoInstant.optional(),
  /** The signed link the button opens. */
  actionUrl: httpUrl,
  /** The signed link to the personal "my open tasks" page. */
  myTasksUrl: httpUrl,
  /** Why something happened (escalation, cancellation, reassignment). */
  reason: optionalText(2000),
  /** A comment someone made (a decision, a completion). */
  comment: optionalText(5000),
};

const base = z.object(baseFields);
const withDue = base.extend({ dueDate: isoInstant });
/** For mails that report something: the link is optional. */
const report = base.extend({ actionUrl: httpUrl.optional() });

export const notificationDataSchemas = {
  /** A new task for the recipient. */
  'task.assigned': base,
  /** The task is still open and the due date is near. */
  'task.reminder': withDue,
  /** Someone else's task is overdue and now also the recipient's concern. */
  'task.escalated': withDue.extend({
    escalationLevel,
    /** Who the task is assigned to. */
    assigneeName: singleLine(200),
  }),
  /** Receipt: the task was completed. */
  'task.completed': report.extend({
    completedAt: isoInstant,
    /** Who completed it, when not the recipient. */
    completedByName: singleLine(200).optional(),
  }),
  /** The task was withdrawn; nothing more to do. */
  'task.cancelled': report,
  /** The recipient's task was handed to someone else. */
  'task.reassigned': report.extend({
    newAssigneeName: singleLine(200),
  }),
  /** The due date of the recipient's task moved. */
  'task.due-changed': withDue.extend({
    /** The due date before the change. */
    previousDueDate: isoInstant,
  }),
  /** The recipient is asked to approve or reject. */
  'approval.requested': base.extend({
    /** Who prepared what is to be approved. */
    preparerName: singleLine(200),
    /** The approval rule in words, e.g. `2 of 3 approvers`. */
    rule: singleLine(200).optional(),
  }),
  /** The approval is still awaited and the due date is near. */
  'approval.reminder': withDue.extend({
    preparerName: singleLine(200),
  }),
  /** An approval is overdue and now also the recipient's concern. */
  'approval.escalated': withDue.extend({
    escalationLevel,
    /** Who has not decided yet. */
    approverName: singleLine(200),
  }),
  /** The result, sent to the preparer. */
  'approval.decided': report.extend({
    decision: z.enum(['approved', 'rejected', 'expired', 'cancelled'], {
      error: 'must be approved, rejected, expired or cancelled',
    }),
    /** Who decided (names, comma-separated), or `nobody`. */
    deciderName: singleLine(200),
    decidedAt: isoInstant,
  }),
  /** A nonconformity is still open past its overall target date; sent to top management. */
  'nc.escalated': report.extend({
    /** Who is accountable for the corrective action. */
    ownerName: singleLine(200),
    severity: z.enum(['major', 'minor'], { error: 'must be major or minor' }),
    /** The overall target date that passed. */
    targetDate: isoInstant,
    /** The step the NC is in, in words. */
    stateText: singleLine(200),
  }),
  /** The corrective action was verified effective and the NC is closed; sent to its owner. */
  'nc.closed': report.extend({
    closedAt: isoInstant,
    /** How many effectiveness reviews found the action not effective before it was. */
    notEffectiveCount: z.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must be at least 0'),
  }),
  /**
   * A reported concern (Annex A.3.3) was not taken up; sent to the reporter when they gave an
   * e-mail address. The reporter is not a user, so there is no "my tasks" link.
   */
  'concern.rejected': report.extend({
    myTasksUrl: httpUrl.optional(),
    /** The reference the reporter was shown. */
    reference: singleLine(200),
    reportedAt: isoInstant,
    /** Why it was not taken up. */
    reason: z.string({ error: 'must be text' }).trim().min(1, 'is required').max(2000, 'must be at most 2000 characters'),
  }),
  /** An external (certification-body) audit is coming; sent to the AIMS manager. `dueDate` is the audit date. */
  'certification.reminder': report.extend({
    dueDate: isoInstant,
    /** e.g. `Stage 2 audit`, `first surveillance audit`. */
    auditName: singleLine(200),
    bodyName: singleLine(200),
    certificateId: singleLine(100),
  }),
  /** The readiness report before an external audit; sent to the AIMS manager and top management. */
  'certification.readiness': report.extend({
    dueDate: isoInstant,
    auditName: singleLine(200),
    certificateId: singleLine(100),
    ready: z.boolean({ error: 'must be true or false' }),
    /** One line per check, e.g. `Internal audit covering the period: complete (IA-2027)`. */
    checks: z.array(singleLine(500)).max(50),
  }),
  /** People's running work was handed over (they left, their AI system changed hands, or on purpose); sent to the AIMS manager. */
  'organization.handover-summary': report.extend({
    /** One line per part moved: the work, and who took it over. */
    movedLines: z.array(singleLine(500)).max(500),
    /** One line per part not moved, and why. */
    notMovedLines: z.array(singleLine(500)).max(500),
  }),
  /** A workflow failed; sent to operations (ALERT_EMAIL), who are not users, so there is no "my tasks" link. */
  'operations.workflow-failed': report.extend({
    myTasksUrl: httpUrl.optional(),
    workflowId: singleLine(500),
    workflowType: singleLine(100),
    runId: singleLine(100),
    /** The failure as the workflow reported it. */
    failure: z.string({ error: 'must be text' }).trim().min(1, 'is required').max(5000, 'must be at most 5000 characters'),
  }),
  /** An external audit's window was missed, or the certificate expired; sent to the AIMS manager and top management. */
  'certification.escalated': report.extend({
    dueDate: isoInstant,
    auditName: singleLine(200),
    certificateId: singleLine(100),
    /** What happened, in words. */
    problem: singleLine(500),
  }),
  /** A management review (9.3) was planned: the meeting invitation (.ics), sent to the attendees. */
  'management-review.invitation': report.extend({
    /** The meeting's start and end, in words. */
    meetingText: singleLine(200),
    /** When the inputs are due. */
    inputsDueDate: isoInstant,
  }),
  /** A management review was cancelled: the meeting is withdrawn from the attendees' calendars. */
  'management-review.cancelled': report.extend({
    meetingText: singleLine(200),
  }),
  /** The review pack (attached as printable HTML) with the updated invitation, sent to the attendees. */
  'management-review.pack': report.extend({
    meetingText: singleLine(200),
    /** Inputs supplied and missing. */
    suppliedInputs: z.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must be at least 0'),
    missingInputs: z.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must be at least 0'),
    /** sha256 of the pack's content. */
    packHash: singleLine(100),
  }),
  /**
   * An internal audit (9.2) was scheduled, moved, given another auditor or cancelled: the
   * invitation (.ics) for its window, sent to the lead auditor and the auditee.
   */
  'internal-audit.invitation': report.extend({
    /** The audit window in words, e.g. `2027-03-01 to 2027-03-05`. */
    windowText: singleLine(200),
    change: z.enum(['scheduled', 'rescheduled', 'auditor-changed', 'cancelled'], {
      error: 'must be scheduled, rescheduled, auditor-changed or cancelled',
    }),
    auditorName: singleLine(200),
    auditeeName: singleLine(200),
  }),
  /** An internal audit's window is coming; sent to the lead auditor. */
  'internal-audit.reminder': report.extend({
    windowText: singleLine(200),
    auditeeName: singleLine(200),
  }),
  /** An internal audit was not started by the end of its window; sent to the AIMS manager and top management. */
  'internal-audit.escalated': report.extend({
    windowText: singleLine(200),
    auditorName: singleLine(200),
    /** The step the audit is in, in words. */
    stateText: singleLine(200),
  }),
  /** The approved internal audit report (findings in `instructions`), sent to the relevant managers. */
  'internal-audit.report': report.extend({
    windowText: singleLine(200),
    auditorName: singleLine(200),
    /** e.g. `1 major NC, 2 minor NCs, 1 observation, 0 opportunities for improvement`. */
    findingsText: singleLine(500),
  }),
  /**
   * An AI system impact assessment ended without a signed-off record (cancelled or failed) and
   * the next one is scheduled; sent to the AIMS manager. `dueDate` is when the reassessment was
   * planned (8.4).
   */
  'impact-assessment.not-completed': report.extend({
    dueDate: isoInstant,
    /** When the next assessment starts. */
    nextStartAt: isoInstant,
    /** Why it did not complete. */
    reason: z.string({ error: 'must be text' }).trim().min(1, 'is required').max(2000, 'must be at most 2000 characters'),
  }),
  /**
   * Someone's part in running work was handed over (they left, or their role changed hands):
   * sent to whoever takes it over, or to the AIMS manager when the workflow's rules route it
   * elsewhere (e.g. an auditor who would audit their own work).
   */
  'work.handed-over': report.extend({
    /** What was handed over, e.g. `the owner of NC-2027-004`. */
    part: singleLine(300),
    fromName: singleLine(200),
    toName: singleLine(200),
    reason: z.string({ error: 'must be text' }).trim().min(1, 'is required').max(2000, 'must be at most 2000 characters'),
    /** What the workflow's rules did about it, e.g. who decides instead. */
    note: optionalText(2000),
  }),
  /**
   * The evidence ledger's head, mailed outside the database to the AIMS manager and the
   * external auditors (the anchor file attached), so a chain rebuilt later fails verification.
   * Sent to people who may not use aimsflow's pages, so there is no "my tasks" link.
   */
  'ledger.anchor': report.extend({
    myTasksUrl: httpUrl.optional(),
    seq: z.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1'),
    hash: z.string({ error: 'must be text' }).regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest'),
    /** When the head was captured. */
    anchoredAt: isoInstant,
    /** `<seq>:<hash>`, as verify takes it. */
    anchorText: singleLine(100),
    /** Set when the ledger's own check found a break: what it found. */
    problem: optionalText(2000),
  }),
  /**
   * An objective's measured value missed its target (6.2, 9.1): sent to the AIMS manager with
   * the value, the target, the at-risk threshold and the misses in a row.
   */
  'objective.at-risk': report.extend({
    /** e.g. `92 % against a target of 95 % (at-risk threshold 90 %)`. */
    valueText: singleLine(300),
    /** `off target` or `at risk`. */
    evaluationText: singleLine(100),
    missesInRow: z.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1'),
  }),
  /** A fresh link after an expired one. */
  'link.renewed': base.extend({
    /** When the new link stops working. */
    expiresAt: isoInstant.optional(),
  }),
} as const;

export type NotificationKind = keyof typeof notificationDataSchemas;

export const notificationKinds = Object.keys(notificationDataSchemas) as [NotificationKind, ...NotificationKind[]];

export const NotificationKind = z.enum(notificationKinds, {
  error: `must be one of ${notificationKinds.join(', ')}`,
});

/** What a caller passes for a kind (optional fields may be left out). */
export type NotificationData<K extends NotificationKind> = z.input<(typeof notificationDataSchemas)[K]>;

/** The data after validation and defaults. */
export type ParsedNotificationData<K extends NotificationKind> = z.output<(typeof notificationDataSchemas)[K]>;

/** A kind together with its data, checked by the compiler for each kind. */
export type NotificationContent = {
  [K in NotificationKind]: { kind: K; data: NotificationData<K> };
}[NotificationKind];
