/**
 * Schemas and shapes every process shares: person ids and actors, clause references, process
 * keys, task timing policies, comment and cancel messages, and how zod problems are worded.
 * Workflow-safe.
 */
import { z } from 'zod';
import { CLAUSE_OR_CONTROL } from './clauses.js';
import { durationString } from './duration.js';
import { escalationStepSchema } from '../organization/schema.js';

export const personIdSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a person id');

/** A service acting through its API key (schedules, the organization file, syncs): `service:<name>`. */
export const serviceActorSchema = z.string().regex(/^service:[a-z0-9][a-z0-9._-]{0,63}$/, 'must be service:<name>');

/**
 * An actor: a person id, `system` for a workflow's own automatic steps, or `service:<name>`
 * for a service's API key. The admin API records its principal, never a name from the body.
 */
export const actorSchema = z.union([personIdSchema, z.literal('system'), serviceActorSchema]);

/**
 * How the person acting was authenticated, recorded beside the actor in the ledger: `link`, from
 * an e-mailed link (the signed link is the credential).
 */
export const viaSchema = z.enum(['link']);
export type Via = z.infer<typeof viaSchema>;

export const clauseRef = z
  .string()
  .regex(CLAUSE_OR_CONTROL, 'must be a clause (e.g. 9.2) or an Annex A control (e.g. A.5.4)');

export const processSchema = z.string().regex(/^[a-z][a-z0-9-]{1,48}$/, 'must be a process key such as corrective-action');

/** Timing policy: when to remind before the due date and whom to escalate to after it. */
export const timingPolicySchema = z.object({
  /** Durations before the due date, e.g. `['7d', '1d']`. Defaults from the organization file. */
  reminderOffsets: z.array(durationString).max(10).optional(),
  /** Steps after the due date. Defaults from the organization file. */
  escalation: z.array(escalationStepSchema).max(5).optional(),
});

export interface PersonRef {
  id: string;
  name: string;
  email: string;
}

export const commentSchema = z.object({ by: actorSchema, text: z.string().trim().min(1, 'is required').max(5000) });
export type Comment = z.infer<typeof commentSchema>;

export const cancelSchema = z.object({ by: actorSchema, reason: z.string().trim().min(1, 'a reason is required').max(2000) });
export type Cancel = z.infer<typeof cancelSchema>;

/** Formats zod issues as `field: problem; field: problem`. */
export function zodProblems(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || 'input'}: ${i.message}`).join('; ');
}

/** A handover of someone's part in running work (they left, or their role changed hands). */
export const handoverSchema = z.object({
  by: actorSchema,
  /** Who held the work. They may no longer be in the organization. */
  from: personIdSchema,
  /** Who takes over unless the workflow's own rules name someone else. */
  to: personIdSchema,
  reason: z.string().trim().min(1, 'a reason is required').max(2000),
  /** The organization change or request this handover belongs to. */
  ref: z.string().trim().max(200).optional(),
});
export type Handover = z.infer<typeof handoverSchema>;
