/**
 * Building Temporal visibility queries safely, and reading what a listed workflow published.
 */

/** A visibility-query string literal. Values are validated before; quotes are escaped anyway. */
export function visibilityLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The execution facts an admin detail view shows for a described workflow. */
export function executionFacts(description: {
  runId: string;
  status: { name: string };
  startTime: Date;
  closeTime?: Date | undefined;
}): { runId: string; executionStatus: string; startedAt: string; closedAt?: string } {
  return {
    runId: description.runId,
    executionStatus: description.status.name,
    startedAt: description.startTime.toISOString(),
    ...(description.closeTime ? { closedAt: description.closeTime.toISOString() } : {}),
  };
}

/** A memo value when it is text. */
export const memoText = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** A Datetime search attribute as ISO-8601, when it holds a valid date. */
export const isoOf = (date: Date | undefined): string | undefined => (date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined);

/** The start of a visibility query for workflows of `type` on `taskQueue`. */
export const workflowsOf = (taskQueue: string, type: string): string[] => [`TaskQueue = ${visibilityLiteral(taskQueue)}`, `WorkflowType = ${visibilityLiteral(type)}`];
