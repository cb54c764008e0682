/**
 * Improvement items (ISO/IEC 42001 10.1 continual improvement): the observations and
 * opportunities for improvement an internal audit finds, kept in the evidence ledger until the
 * AIMS manager turns each into an action (a task, or a corrective action when it is a
 * nonconformity after all) or dismisses it with a reason. Management review reads the open ones
 * as its input (e) (9.3.2). Ids, record kinds and contents, the request schemas and their rules.
 * Workflow-safe (zod only).
 */
import { z } from 'zod';
import { actorSchema, personIdSchema } from '../common/schemas.js';
import { severities } from '../corrective-action/nc-id.js';

/** The clause every improvement record is filed under. */
export const IMPROVEMENT_CLAUSE = '10.1';

export const IMPROVEMENT_RAISED = 'improvement.raised';
export const IMPROVEMENT_ACTIONED = 'improvement.actioned';
export const IMPROVEMENT_DISMISSED = 'improvement.dismissed';

export const improvementTypes = ['observation', 'opportunity'] as const;
export type ImprovementType = (typeof improvementTypes)[number];

export const improvementIdSchema = z
  .string()
  .regex(/^IMP-[A-Za-z0-9][A-Za-z0-9-]{0,150}$/, 'must be an improvement id such as IMP-2027-A-03-F2');

/**
 * The stable id of the improvement item an audit finding raises: `IMP-<programme key>-<finding id>`,
 * e.g. `IMP-2027-A-03-F2` for finding `A-03-F2` of `internal-audit/2027/A-03`.
 */
export function improvementId(auditWorkflowId: string, findingId: string): string {
  const key = auditWorkflowId.split('/')[1] ?? '';
  const safe = (s: string) => s.replace(/[^A-Za-z0-9-]+/g, '-');
  return `IMP-${key ? `${safe(key)}-` : ''}${safe(findingId)}`;
}

/** The subject every record of an improvement item is filed under: `improvement/IMP-2027-A-03-F2`. */
export function improvementSubject(id: string): string {
  return `improvement/${id}`;
}

export const IMPROVEMENT_SUBJECT_PREFIX = 'improvement/';

/** The human task an improvement item is turned into: `improvement/IMP-2027-A-03-F2/action`. */
export function improvementActionWorkflowId(id: string): string {
  return `${improvementSubject(id)}/action`;
}

/** The id of the one record that closes an item (actioned or dismissed): a second closing conflicts with it. */
export function improvementClosingRecordId(id: string): string {
  return `${improvementSubject(id)}/closed`;
}

/** Content of `improvement.raised` (subject `improvement/<id>`). */
export interface ImprovementRaisedContent {
  improvementId: string;
  source: 'internal-audit';
  type: ImprovementType;
  statement: string;
  evidence: string;
  /** The clauses and Annex A controls concerned (the finding's references). */
  clauses: string[];
  finding: { findingId: string; type: ImprovementType; refs: string[]; statement: string; evidence: string };
  audit: { year: number; auditId: string; workflowId: string; programmeWorkflowId: string; title: string; leadAuditor: string; auditee: string };
  raisedBy: string;
  raisedAt: string;
}

/** What an item was turned into. */
export type ImprovementAction =
  | { type: 'task'; workflowId: string; title: string; assignee: string; dueAt: string }
  | { type: 'corrective-action'; workflowId: string; ncId: string; severity: (typeof severities)[number]; owner: string; reason: string };

/** Content of `improvement.actioned`. */
export interface ImprovementActionedContent {
  improvementId: string;
  action: ImprovementAction;
  by: string;
  note: string | null;
}

/** Content of `improvement.dismissed`. */
export interface ImprovementDismissedContent {
  improvementId: string;
  by: string;
  reason: string;
}

// ---------------------------------------------------------------------------------------------
// Requests

const byField = actorSchema.optional().describe('If given, must name whoever is authenticated (the AIMS manager): the action is recorded as them');
const reasonField = z.string().trim().min(1, 'a reason is required').max(2000, 'must be at most 2000 characters');

export const improvementActionRequestSchema = z.discriminatedUnion('as', [
  z
    .strictObject({
      as: z.literal('task'),
      assignee: personIdSchema.describe('Who carries out the improvement'),
      dueAt: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time, e.g. 2027-03-01T17:00:00Z' }),
      title: z.string().trim().min(3, 'must be at least 3 characters').max(200).optional(),
      instructions: z.string().trim().min(1).max(5000).optional(),
      note: z.string().trim().max(2000).optional(),
      by: byField,
    })
    .describe('ImprovementAsTask'),
  z
    .strictObject({
      as: z.literal('corrective-action'),
      severity: z.enum(severities, { message: 'must be "major" or "minor"' }),
      owner: personIdSchema.optional().describe('Who owns the corrective action; default the auditee'),
      reason: reasonField.describe('Why the item is a nonconformity after all'),
      by: byField,
    })
    .describe('ImprovementAsCorrectiveAction'),
]);
export type ImprovementActionRequest = z.output<typeof improvementActionRequestSchema>;

export const improvementDismissRequestSchema = z.strictObject({ reason: reasonField, by: byField }).describe('DismissImprovement');
export type ImprovementDismissRequest = z.output<typeof improvementDismissRequestSchema>;

/** A problem with a request, naming its field and the rule. */
export interface ImprovementIssue {
  field: string;
  rule: string;
  message: string;
}

/** An action's due date must lie ahead: work cannot be due on a day that is gone. */
export function actionRequestProblems(request: ImprovementActionRequest, nowMs: number): ImprovementIssue[] {
  if (request.as !== 'task') return [];
  if (Date.parse(request.dueAt) > nowMs) return [];
  return [{ field: 'dueAt', rule: 'due date in the future', message: `${request.dueAt} is not in the future (now ${new Date(nowMs).toISOString()})` }];
}
