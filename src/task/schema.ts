/**
 * Human task: input, state and the messages people send to it. Workflow-safe.
 */
import { z } from 'zod';
import { SINGLE_LINE } from '../common/text.js';
import { formKeySchema, type FormKey } from '../forms/index.js';
import { assigneeRefSchema } from '../organization/schema.js';
import { conflictsSchema } from '../people/duties.js';
import { actorSchema, clauseRef, personIdSchema, processSchema, timingPolicySchema, viaSchema, type PersonRef, type Via } from '../common/schemas.js';

export const humanTaskInputSchema = z
  .object({
    title: z.string().trim().min(3).max(200).regex(...SINGLE_LINE),
    instructions: z.string().trim().min(1).max(10000),
    clauses: z.array(clauseRef).max(20).default([]),
    process: processSchema.default('adhoc'),
    aiSystem: z.string().optional(),
    assignee: assigneeRefSchema,
    dueAt: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time, e.g. 2027-03-01T17:00:00Z' }),
    form: formKeySchema.default('text'),
    /** The options of a `choice` form. */
    choices: z.array(z.string().min(1).max(200)).max(50).optional(),
    /** Who asked for it (a person id or `system`). */
    requestedBy: actorSchema.default('system'),
    policy: timingPolicySchema.prefault({}),
    /** People who must not hold the task (delegate or reassignee), each with the rule and why; set by the parent process. */
    conflicts: conflictsSchema,
  })
  .superRefine((input, ctx) => {
    if (input.form === 'choice' && (!input.choices || input.choices.length < 2)) {
      ctx.addIssue({ code: 'custom', path: ['choices'], message: 'a choice form needs at least two choices' });
    }
  });

export type HumanTaskInput = z.input<typeof humanTaskInputSchema>;
export type HumanTaskSpec = z.output<typeof humanTaskInputSchema>;

export type TaskState = 'open' | 'overdue' | 'completed' | 'cancelled';

export type TaskEventType =
  | 'created'
  | 'assigned'
  | 'reminded'
  | 'overdue'
  | 'escalated'
  /** The assignee is not in the organization (any more): the task went to the fallback. */
  | 'rerouted'
  | 'reassigned'
  | 'delegated'
  | 'due-extended'
  | 'commented'
  | 'completed'
  | 'cancelled'
  /** Someone's part in the task (assignee, delegate, escalation manager) was handed over. */
  | 'handover';

export interface TaskEvent {
  at: string;
  type: TaskEventType;
  by: string;
  detail: string;
  data?: Record<string, unknown>;
}

export interface TaskStatus {
  taskId: string;
  title: string;
  instructions: string;
  clauses: string[];
  process: string;
  aiSystem?: string;
  form: FormKey;
  choices: string[];
  state: TaskState;
  assignee: PersonRef;
  delegate?: PersonRef;
  /** The manager recorded at assignment, whom the ladder escalates to (a handover replaces them). */
  escalationManager?: string;
  requestedBy: string;
  dueAt: string;
  createdAt: string;
  escalationLevel: number;
  completion?: { by: string; at: string; data: Record<string, unknown>; via?: Via };
  cancellation?: { by: string; at: string; reason: string };
  history: TaskEvent[];
}

export interface HumanTaskResult {
  taskId: string;
  status: 'completed' | 'cancelled';
  completedBy?: string;
  completedAt?: string;
  data?: Record<string, unknown>;
  cancellation?: { by: string; at: string; reason: string };
  history: TaskEvent[];
}

// Update arguments (validated again inside the workflow's validators).

export const completeTaskSchema = z.object({ by: personIdSchema, data: z.record(z.string(), z.unknown()), via: viaSchema.optional() });
export type CompleteTask = z.infer<typeof completeTaskSchema>;

export const reassignTaskSchema = z.object({
  by: actorSchema,
  to: personIdSchema,
  reason: z.string().trim().min(1, 'a reason is required').max(2000),
});
export type ReassignTask = z.infer<typeof reassignTaskSchema>;

export const delegateTaskSchema = z.object({
  by: personIdSchema,
  to: personIdSchema,
  note: z.string().trim().max(2000).optional(),
});
export type DelegateTask = z.infer<typeof delegateTaskSchema>;

export const extendDueSchema = z.object({
  by: actorSchema,
  dueAt: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time' }),
  reason: z.string().trim().min(1, 'a reason is required').max(2000),
});
export type ExtendDue = z.infer<typeof extendDueSchema>;

