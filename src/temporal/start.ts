/**
 * Starting human tasks and approvals: the input is validated with the domain schemas (every
 * bad field named), the workflow gets a meaningful id, a summary line for the Temporal UI,
 * its initial search attributes and memo, and is started on the given task queue.
 *
 * Used by the admin API for ad-hoc work; PDCA parents that start these as children choose
 * ids from their business keys instead.
 */
import { randomBytes } from 'node:crypto';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { WorkflowIdReusePolicy, type SearchAttributePair } from '@temporalio/common';
import type { z } from 'zod';
import { approvalInputSchema, requiredApprovals, type ApprovalInput, type ApprovalSpec } from '../domain/approval.js';
import { OrganizationLookupError, resolveAssignees, type AssigneeRef, type Organization } from '../domain/organization.js';
import { humanTaskInputSchema, type HumanTaskInput, type HumanTaskSpec } from '../domain/task.js';
import {
  correctiveActionInputSchema,
  correctiveActionWorkflowId,
  type CorrectiveActionInput,
  type CorrectiveActionSpec,
} from '../domain/corrective-action.js';
import { CONCERN_WORKFLOW_PREFIX, concernInputSchema, type ConcernInput } from '../domain/concern.js';
import type { approval } from '../../workflows/approval.js';
import type { concern } from '../../workflows/concern.js';
import type { correctiveAction } from '../../workflows/corrective-action.js';
import type { humanTask } from '../../workflows/human-task.js';
import { nonconformityAttributes, searchAttributes } from './shared.js';

/** Workflow type names, as registered by the worker. */
export const workflowTypes = { task: 'humanTask', approval: 'approval', correctiveAction: 'correctiveAction', concern: 'concern' } as const;

export interface StartIssue {
  /** Dotted path of the failing field, e.g. `assignee.person` or `approvers.1`. */
  path: string;
  message: string;
}

/** The input was refused before anything started; `issues` names every bad field. */
export class StartInputError extends Error {
  readonly issues: StartIssue[];

  constructor(what: string, issues: StartIssue[]) {
    super(`Invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'StartInputError';
    this.issues = issues;
  }
}

export interface StartOptions {
  /** The workflow id; defaults to `task/adhoc/<yyyy>/<random>` or `approval/adhoc/<yyyy>/<random>`. */
  workflowId?: string;
  /**
   * The organization, when the caller has it: people and roles are then checked before the
   * workflow starts, so an unknown person is a field error rather than a failed workflow.
   */
  organization?: Organization;
}

const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/** Eight characters from an alphabet without look-alikes (no l, o, 0, 1): about 40 bits. */
export function shortRandomId(length = 8): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ID_ALPHABET[byte % ID_ALPHABET.length];
  return out;
}

/** `<prefix>/adhoc/<year>/<random>`, e.g. `task/adhoc/2027/k3m9x2qa`. */
export function adhocWorkflowId(prefix: 'task' | 'approval', now = new Date()): string {
  return `${prefix}/adhoc/${now.getUTCFullYear()}/${shortRandomId()}`;
}

function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new StartInputError(
      what,
      parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(input)', message: issue.message })),
    );
  }
  return parsed.data;
}

/** Person ids a reference resolves to, or an issue at `path`. */
function resolveRef(org: Organization, ref: AssigneeRef, path: string, issues: StartIssue[]): string[] {
  try {
    const ids = resolveAssignees(org, ref);
    if (ids.length === 0) issues.push({ path, message: 'nobody holds that role' });
    return ids;
  } catch (err) {
    if (err instanceof OrganizationLookupError) {
      issues.push({ path, message: err.message });
      return [];
    }
    throw err;
  }
}

function checkTaskPeople(org: Organization, spec: HumanTaskSpec): void {
  const issues: StartIssue[] = [];
  resolveRef(org, spec.assignee, 'person' in spec.assignee ? 'assignee.person' : 'assignee', issues);
  if (spec.requestedBy !== 'system' && !org.people.some((p) => p.id === spec.requestedBy)) {
    issues.push({ path: 'requestedBy', message: `unknown person "${spec.requestedBy}"` });
  }
  if (spec.aiSystem !== undefined && !org.aiSystems.some((s) => s.id === spec.aiSystem)) {
    issues.push({ path: 'aiSystem', message: `unknown AI system "${spec.aiSystem}" (not in the inventory)` });
  }
  if (issues.length) throw new StartInputError('task input', issues);
}

function checkApprovalPeople(org: Organization, spec: ApprovalSpec): void {
  const issues: StartIssue[] = [];
  if (!org.people.some((p) => p.id === spec.preparer)) {
    issues.push({ path: 'preparer', message: `unknown person "${spec.preparer}"` });
  }
  const ids = new Set<string>();
  spec.approvers.forEach((ref, i) => {
    for (const id of resolveRef(org, ref, `approvers.${i}`, issues)) ids.add(id);
  });
  if (issues.length === 0) {
    ids.delete(spec.preparer);
    const required = requiredApprovals(spec.rule, ids.size);
    if (ids.size === 0 || required > ids.size) {
      issues.push({
        path: 'approvers',
        message: `needs at least ${required || 1} approver(s) other than the preparer; found ${ids.size}`,
      });
    }
  }
  if (issues.length) throw new StartInputError('approval input', issues);
}

function initialAttributes(
  spec: { process: string; dueAt: string; clauses: string[] },
  state: string,
  people: { owner?: string; assignees?: string[] },
): SearchAttributePair[] {
  return [
    { key: searchAttributes.process, value: spec.process },
    { key: searchAttributes.state, value: state },
    { key: searchAttributes.dueDate, value: new Date(spec.dueAt) },
    { key: searchAttributes.clauses, value: spec.clauses },
    ...(people.owner ? [{ key: searchAttributes.owner, value: people.owner }] : []),
    ...(people.assignees?.length ? [{ key: searchAttributes.assignees, value: people.assignees }] : []),
  ];
}

/**
 * Validates `input` (throws StartInputError naming each bad field) and starts a `humanTask`
 * workflow. Throws WorkflowExecutionAlreadyStartedError when `workflowId` is taken.
 */
export async function startHumanTask(
  client: Client,
  taskQueue: string,
  input: HumanTaskInput,
  opts: StartOptions = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof humanTask>> {
  const spec = parseInput(humanTaskInputSchema, input, 'task input');
  if (opts.organization) checkTaskPeople(opts.organization, spec);
  const person = 'person' in spec.assignee ? spec.assignee.person : undefined;
  return client.workflow.start<typeof humanTask>(workflowTypes.task, {
    taskQueue,
    workflowId: opts.workflowId ?? adhocWorkflowId('task'),
    args: [spec],
    staticSummary: spec.title,
    memo: { kind: 'task', title: spec.title, dueAt: spec.dueAt },
    typedSearchAttributes: [
      ...initialAttributes(spec, 'open', person ? { owner: person, assignees: [person] } : {}),
      ...(spec.aiSystem ? [{ key: searchAttributes.aiSystem, value: spec.aiSystem }] : []),
    ],
  });
}

/**
 * Validates `input` (throws StartInputError naming each bad field) and starts an `approval`
 * workflow. Its initial state is `pending`, as the approval itself names it.
 */
export async function startApproval(
  client: Client,
  taskQueue: string,
  input: ApprovalInput,
  opts: StartOptions = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof approval>> {
  const spec = parseInput(approvalInputSchema, input, 'approval input');
  if (opts.organization) checkApprovalPeople(opts.organization, spec);
  return client.workflow.start<typeof approval>(workflowTypes.approval, {
    taskQueue,
    workflowId: opts.workflowId ?? adhocWorkflowId('approval'),
    args: [spec],
    staticSummary: spec.title,
    memo: { kind: 'approval', title: spec.title, dueAt: spec.dueAt },
    typedSearchAttributes: initialAttributes(spec, 'pending', { owner: spec.preparer }),
  });
}

/**
 * Checks a nonconformity's people and AI system against the organization (throws
 * StartInputError naming each bad field), so a caller can refuse it before allocating its id.
 */
export function checkNonconformityPeople(
  org: Organization,
  spec: Pick<CorrectiveActionSpec, 'owner' | 'raisedBy' | 'aiSystem'>,
): void {
  const issues: StartIssue[] = [];
  if (!org.people.some((p) => p.id === spec.owner)) issues.push({ path: 'owner', message: `unknown person "${spec.owner}"` });
  if (spec.raisedBy !== 'system' && !org.people.some((p) => p.id === spec.raisedBy)) {
    issues.push({ path: 'raisedBy', message: `unknown person "${spec.raisedBy}"` });
  }
  if (spec.aiSystem !== undefined && !org.aiSystems.some((s) => s.id === spec.aiSystem)) {
    issues.push({ path: 'aiSystem', message: `unknown AI system "${spec.aiSystem}" (not in the inventory)` });
  }
  if (issues.length) throw new StartInputError('nonconformity', issues);
}

/**
 * Validates `input` (throws StartInputError naming each bad field) and starts the corrective
 * action of one nonconformity as `corrective-action/<ncId>`. The NC id comes from the records
 * store's sequence (see `allocateNcId` in activities/corrective-action.ts). An NC id is never
 * reused: throws WorkflowExecutionAlreadyStartedError when that NC runs or ever ran.
 */
export async function startCorrectiveAction(
  client: Client,
  taskQueue: string,
  input: CorrectiveActionInput,
  opts: Pick<StartOptions, 'organization'> = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof correctiveAction>> {
  const spec = parseInput(correctiveActionInputSchema, input, 'nonconformity');
  if (opts.organization) checkNonconformityPeople(opts.organization, spec);
  return client.workflow.start<typeof correctiveAction>(workflowTypes.correctiveAction, {
    taskQueue,
    workflowId: correctiveActionWorkflowId(spec.ncId),
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    args: [spec],
    staticSummary: `${spec.ncId}: ${spec.title}`,
    memo: { kind: 'nonconformity', ncId: spec.ncId, title: spec.title, severity: spec.severity, source: spec.source },
    typedSearchAttributes: nonconformityAttributes(spec),
  });
}

/**
 * Validates a reported concern (throws StartInputError naming each bad field; an AI system not
 * in the inventory is one) and starts its triage as `concern/<yyyy>/<short-random>`.
 */
export async function startConcern(
  client: Client,
  taskQueue: string,
  input: ConcernInput,
  opts: Pick<StartOptions, 'organization'> = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof concern>> {
  const spec = parseInput(concernInputSchema, input, 'concern');
  if (opts.organization && spec.aiSystem !== undefined && !opts.organization.aiSystems.some((s) => s.id === spec.aiSystem)) {
    throw new StartInputError('concern', [{ path: 'aiSystem', message: `unknown AI system "${spec.aiSystem}" (not in the inventory)` }]);
  }
  const reportedAt = new Date(spec.reportedAt);
  return client.workflow.start<typeof concern>(workflowTypes.concern, {
    taskQueue,
    workflowId: `${CONCERN_WORKFLOW_PREFIX}${reportedAt.getUTCFullYear()}/${shortRandomId()}`,
    args: [spec],
    staticSummary: 'Reported concern (A.3.3)',
    memo: { kind: 'concern' },
    typedSearchAttributes: [
      { key: searchAttributes.process, value: 'concern' },
      { key: searchAttributes.state, value: 'triage' },
      { key: searchAttributes.clauses, value: ['A.3.3'] },
      ...(spec.aiSystem ? [{ key: searchAttributes.aiSystem, value: spec.aiSystem }] : []),
    ],
  });
}
