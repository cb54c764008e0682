/**
 * A PDCA workflow's evidence: each record's id derives from the workflow (so a retried
 * activity appends it once), its subject is the workflow id, and its content starts with the
 * fields that identify the work (an NC id, an audit id, ...).
 */
import { workflowInfo } from '@temporalio/workflow';
import type { AppendedRecord } from '../../activities/records.js';
import { acts } from './activities.js';

export interface LedgerWriter {
  /**
   * Appends a record; `key` (default `<n>-<kind>`, numbered in order) makes its id unique
   * within the workflow.
   */
  append: (kind: string, actor: string, content: Record<string, unknown>, key?: string, occurredAt?: string) => Promise<AppendedRecord>;
  /** How many records were numbered so far (a workflow that continues as new carries it). */
  numbered: () => number;
}

export function ledgerWriter(options: {
  clauses: readonly string[];
  /** The fields every record's content starts with. */
  identity: () => Record<string, unknown>;
  /** Prefix of record ids; default `<workflow id>/<first run id>`. */
  idBase?: string;
  /** The numbering to continue from. */
  numberedBefore?: number;
}): LedgerWriter {
  const info = workflowInfo();
  const idBase = options.idBase ?? `${info.workflowId}/${info.firstExecutionRunId}`;
  let seq = options.numberedBefore ?? 0;
  return {
    append: (kind, actor, content, key = `${++seq}-${kind}`, occurredAt = new Date().toISOString()) =>
      acts.appendRecord({
        id: `${idBase}/${key}`,
        kind,
        subject: info.workflowId,
        clauses: [...options.clauses],
        actor,
        occurredAt,
        content: { ...options.identity(), ...content },
      }),
    numbered: () => seq,
  };
}
