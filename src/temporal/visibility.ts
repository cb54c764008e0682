/**
 * Building Temporal visibility queries safely.
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
