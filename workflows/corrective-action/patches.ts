/**
 * The corrective action's `patched()` ids. Each guards a change to what a running workflow does,
 * so histories recorded before it (test/histories) replay the old way.
 */

/** A step task or approval cancelled on its own is asked again instead of cancelling the NC. */
export const STEP_REASK_PATCH = 'ca-step-reask';

/** An action plan with an action due in the past is asked for again (rule action-due-not-in-past). */
export const PLAN_DUE_DATES_PATCH = 'ca-plan-due-dates';

/** Cancelling a major NC, or one from the certification body, asks top management first. */
export const CANCEL_APPROVAL_PATCH = 'ca-cancel-approval';

/** The plan approver follows from the NC's owner (who never approves it), not only from who completed the plan. */
export const PLAN_APPROVER_PATCH = 'ca-plan-approver-from-owner';

/** The system-change decision asks whether the risks must be updated too; a yes puts a risk in the register, linked to the NC (issue #18). */
export const NC_RISK_REGISTER_PATCH = 'corrective-action-risk-register';
