/**
 * The corrective action's `patched()` ids. Each guards a change to what a running workflow does,
 * so histories recorded before it (test/histories) replay the old way.
 */

/** An action plan with an action due in the past is asked for again (rule action-due-not-in-past). */
export const PLAN_DUE_DATES_PATCH = 'ca-plan-due-dates';
