/**
 * Signed-link claims: what an e-mailed link lets its holder do.
 *
 * Workflow-safe: imports only zod, so workflows can name actions and claim shapes.
 */
import { z } from 'zod';

/**
 * What a link lets its holder do:
 * - `task.view`: open a task page and complete the task;
 * - `approval.decide`: open an approval page and approve or reject;
 * - `tasks.mine`: the personal "my open tasks" page;
 * - `link.renew`: ask for a fresh link by e-mail.
 */
export const LinkAction = z.enum(['task.view', 'approval.decide', 'tasks.mine', 'link.renew']);
export type LinkAction = z.infer<typeof LinkAction>;

/** Ids are carried inside e-mail URLs, so they are kept short and free of control characters. */
const linkId = (what: string) =>
  z
    .string({ error: `must be a ${what} (string)` })
    .min(1, `must name the ${what}`)
    .max(200, `must be at most 200 characters`)
    .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');

/** What a caller asks to sign. `task` defaults to `wf` when the workflow is the task itself. */
export const linkRequestSchema = z.object({
  /** Workflow id, e.g. `human-task/corrective-action/NC-2027-004/analysis`. For `tasks.mine` links, the workflow whose mail carried the link. */
  wf: linkId('workflow id'),
  /** Task id; often equal to `wf`. */
  task: linkId('task id').optional(),
  action: LinkAction,
  /** Person id from the organization config. */
  person: linkId('person id'),
});
export type LinkRequest = z.input<typeof linkRequestSchema>;

/** The verified content of a link token. */
export const linkClaimsSchema = z.object({
  wf: linkId('workflow id'),
  task: linkId('task id'),
  action: LinkAction,
  person: linkId('person id'),
  /** Expiry, seconds since the epoch. */
  exp: z.number().int().positive(),
  /** Issued at, seconds since the epoch. */
  iat: z.number().int().nonnegative(),
  /** Unique token id. */
  jti: z.string().min(1),
});
export type LinkClaims = z.infer<typeof linkClaimsSchema>;

export type LinkErrorCode = 'expired' | 'invalid' | 'wrong-action' | 'wrong-person';
