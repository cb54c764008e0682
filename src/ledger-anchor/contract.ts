/**
 * The ledger anchor's contract: the workflow a Temporal Schedule starts every day to publish the
 * evidence ledger's head outside the database. Workflow-safe.
 */
export const LEDGER_ANCHOR_WORKFLOW = 'ledgerAnchor';
export const LEDGER_ANCHOR_PROCESS = 'ledger-anchor';

export interface LedgerAnchorInput {
  /** Who asked: `system` for the schedule, else the person or service that ran it now. */
  requestedBy?: string;
}

export interface LedgerAnchorResult {
  /**
   * `empty`: nothing to anchor; `already-published`: the head has not moved since it was mailed;
   * `no-recipients`: nobody to mail it to had an address, so it was not published.
   */
  status: 'published' | 'already-published' | 'empty' | 'no-recipients';
  seq?: number;
  hash?: string;
  /** When the head was captured. */
  at?: string;
  /** Person ids mailed. */
  recipients?: string[];
  /** Recipients without an e-mail address. */
  skipped?: string[];
}

export type LedgerAnchorWorkflow = (input?: LedgerAnchorInput) => Promise<LedgerAnchorResult>;

/** What the capture activity returns: the head, and how far the ledger's own check vouches for it. */
export interface CapturedAnchor {
  seq: number;
  hash: string;
  at: string;
  previousSeq: number;
  /** Records whose hashes the anchor carries. */
  recordCount: number;
  /** When it was mailed already (a head that has not moved since). */
  publishedAt: string | null;
  /** The ledger's own check found no break. */
  intact: boolean;
  verifiedThrough: number;
}
