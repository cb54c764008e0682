/**
 * How a process's lifecycle ends: done, a step cancelled on its own, or cancelled (by the
 * process itself, e.g. its cancel update, or through Temporal by a parent or an operator);
 * and the closing work that runs whichever way it ended.
 */
import { allHandlersFinished, CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import { StepCancelled } from './util.js';

export type Ending<T> =
  | { kind: 'done'; value: T }
  | { kind: 'step-cancelled'; by: string; reason: string }
  /** `temporal`: the cancellation came through Temporal; rethrow it once the closing work is done. */
  | { kind: 'cancelled'; temporal?: Error };

/**
 * Runs `lifecycle` in `scope`. A step cancelled on its own or a cancellation ends it; any
 * other failure fails the workflow. `cancelledOnPurpose` tells a cancellation the workflow
 * asked for (its own scope) from one that came through Temporal.
 */
export async function runLifecycle<T>(scope: CancellationScope, lifecycle: () => Promise<T>, cancelledOnPurpose: () => boolean): Promise<Ending<T>> {
  try {
    return { kind: 'done', value: await scope.run(lifecycle) };
  } catch (err) {
    if (err instanceof StepCancelled) return { kind: 'step-cancelled', by: err.by, reason: err.reason };
    if (!isCancellation(err)) throw err;
    return cancelledOnPurpose() ? { kind: 'cancelled' } : { kind: 'cancelled', temporal: err as Error };
  }
}

/** The closing work: runs even while the workflow is being cancelled, then lets running handlers finish. */
export function closing<T>(work: () => Promise<T>): Promise<T> {
  return CancellationScope.nonCancellable(async () => {
    const result = await work();
    await condition(allHandlersFinished);
    return result;
  });
}
