/**
 * A stand-in for an audit: raises one nonconformity through the shared start helper and
 * completes at once, so a test can check that the NC outlives it.
 */
import type { CorrectiveActionInput } from '../../src/corrective-action/schema.js';
import { raiseNonconformity } from '../../workflows/lib/children.js';

export async function raisingParent(input: Omit<CorrectiveActionInput, 'ncId'>): Promise<{ ncId: string; workflowId: string }> {
  const first = await raiseNonconformity('finding-1', input);
  // Raising the same finding again (a retry) gives the same NC and starts nothing new.
  const again = await raiseNonconformity('finding-1', input);
  if (again.workflowId !== first.workflowId) throw new Error(`raised twice: ${first.ncId} and ${again.ncId}`);
  return first;
}
