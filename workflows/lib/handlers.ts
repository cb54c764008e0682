/**
 * Update handlers with validators, and the comment and cancel handlers several processes
 * share. The validator and the handler run the same check: the validator refuses early with
 * the reason a person reads; the handler checks again once the workflow is set up.
 */
import type { UpdateDefinition } from '@temporalio/common';
import { ActivityFailure, condition, setHandler } from '@temporalio/workflow';
import type { z } from 'zod';
import { cancelSchema, commentSchema, zodProblems, type Cancel, type Comment } from '../../src/common/schemas.js';
import { cancelUpdate, commentUpdate, type UpdateAck } from '../../src/common/messages.js';
import { reject } from './util.js';

export interface GuardedUpdate<S extends z.ZodType, R> {
  schema: S;
  /** True once the workflow has resolved what the checks need (its people, its settings). */
  ready: () => boolean;
  check: (input: z.output<S>) => void;
  apply: (input: z.output<S>) => R | Promise<R>;
}

/**
 * An update's handler and validator. The validator checks the argument's shape always and the
 * business rules once the workflow is set up; an update that arrives while the workflow is
 * still resolving its people waits for that, then gets the same checks before it applies.
 */
export function guardedUpdate<S extends z.ZodType, R>(
  options: GuardedUpdate<S, R>,
): [(input: z.output<S>) => Promise<R>, { validator: (input: z.output<S>) => void }] {
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

/** Registers `guardedUpdate(options)` for `definition`. */
export function onUpdate<S extends z.ZodType, R, A extends unknown[]>(definition: UpdateDefinition<R, A>, options: GuardedUpdate<S, R>): void {
  setHandler(definition as unknown as UpdateDefinition<R, [z.output<S>]>, ...guardedUpdate(options));
}

/** Who may do something, and what a refused person is told. */
export interface Permission {
  ready: () => boolean;
  /** Person ids allowed (and `system`, the parent or the admin API acting as the system). */
  allowed: () => ReadonlyArray<string | undefined>;
  refusal: string;
}

const permits = (p: Permission, by: string) => p.allowed().includes(by);

/** The comment update: allowed people post a comment, which `record` keeps. */
export function onComment(
  permission: Permission,
  record: (input: Comment) => void | Promise<void>,
  ack: (message: string) => UpdateAck,
  message = 'Comment added.',
): void {
  onUpdate(commentUpdate, {
    schema: commentSchema,
    ready: permission.ready,
    check: (input) => {
      if (!permits(permission, input.by)) reject(permission.refusal);
    },
    apply: async (input) => {
      await record(input);
      return ack(message);
    },
  });
}

/** The cancel update: allowed people cancel with a reason while `ensureOpen` holds. */
export function onCancel(
  permission: Permission & { ensureOpen: () => void },
  cancel: (input: Cancel) => void | Promise<void>,
  ack: (message: string) => UpdateAck,
  message: string,
): void {
  onUpdate(cancelUpdate, {
    schema: cancelSchema,
    ready: permission.ready,
    check: (input) => {
      permission.ensureOpen();
      if (!permits(permission, input.by)) reject(permission.refusal);
    },
    apply: async (input) => {
      await cancel(input);
      return ack(message);
    },
  });
}

/** Runs an organization look-up from a handler; a look-up that fails rejects the update with its reason. */
export async function lookUpOrReject<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ActivityFailure) reject(err.cause?.message ?? err.message);
    throw err;
  }
}
