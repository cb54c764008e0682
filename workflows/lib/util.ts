/**
 * Small helpers for workflow code: input parsing and update rejections with clear reasons.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { zodProblems } from '../../src/common/schemas.js';

/** Parses workflow input; a bad input fails the workflow with one line naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) invalidInput(`Invalid ${what}: ${zodProblems(parsed.error)}`);
  return parsed.data;
}

/** Fails the workflow with a non-retryable `InvalidInput` error. */
export function invalidInput(message: string): never {
  throw ApplicationFailure.create({ type: 'InvalidInput', message, nonRetryable: true });
}

/** Rejects an update (from a validator or handler) with a reason the caller can show to a person. */
export function reject(reason: string): never {
  throw ApplicationFailure.create({ type: 'Rejected', message: reason, nonRetryable: true });
}

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Tue 15 Dec 2026` (UTC), for summaries and history lines. */
export function formatDay(ms: number): string {
  const d = new Date(ms);
  return `${days[d.getUTCDay()]} ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** A step's task or approval was cancelled on its own (not through the workflow that runs it). */
export class StepCancelled extends Error {
  constructor(
    readonly by: string,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'StepCancelled';
  }
}

/**
 * A step's child failed every time it was asked (failed, timed out, terminated): the process
 * gives up on the step and ends the way a step cancelled on its own ends it.
 */
export class StepFailed extends StepCancelled {
  constructor(reason: string) {
    super('system', reason);
    this.name = 'StepFailed';
  }
}
