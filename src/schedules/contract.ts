/**
 * The yearly schedules' contract: the launcher workflow a Temporal Schedule starts.
 * Workflow-safe.
 */
import type { ScheduledCycleInput, ScheduledCycleResult } from './schema.js';

export const SCHEDULED_CYCLE_WORKFLOW = 'scheduledCycle';
export type ScheduledCycleWorkflow = (input: ScheduledCycleInput) => Promise<ScheduledCycleResult>;
