/**
 * Small helpers for workflow code: input parsing and update rejections with clear reasons.
 */
import { ApplicationFailure, condition } from '@temporalio/workflow';
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

/**
 * An update's handler and validator. The validator checks the argument's shape always and the
 * business rules once the workflow is set up; an update that arrives while the workflow is
 * still resolving its people waits for that, then gets the same checks before it applies.
 */
export function guardedUpdate<S extends z.ZodType, R>(options: {
  schema: S;
  ready: () => boolean;
  check: (input: z.output<S>) => void;
  apply: (input: z.output<S>) => R | Promise<R>;
}): [(input: z.output<S>) => Promise<R>, { validator: (input: z.output<S>) => void }] {
  const parse = (input: unknown): z.output<S> => {
    const parsed = options.schema.safeParse(input);
    if (!parsed.success) reject(zodProblems(parsed.error));
    return parsed.data;
  };
  return [
    async (input) => {
      const parsed = parse(input);
      if (!options.ready()) {
        await condition(options.ready);
        options.check(parsed);
      }
      return options.apply(parsed);
    },
    {
      validator: (input: z.output<S>) => {
        const parsed = parse(input);
        if (options.ready()) options.check(parsed);
      },
    },
  ];
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
