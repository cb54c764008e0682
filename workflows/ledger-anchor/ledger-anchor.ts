/**
 * Publishes the evidence ledger's head outside the database, every day from a Temporal Schedule
 * (src/ledger-anchor/schedule.ts): capture the head as an anchor, mail it with its anchor file to
 * the AIMS manager and every external auditor, and note that it was published. A head already
 * mailed (nothing appended since) is not mailed again. Every step is safe to retry.
 */
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { LEDGER_ANCHOR_PROCESS, type LedgerAnchorInput, type LedgerAnchorResult } from '../../src/ledger-anchor/contract.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts, mail } from '../lib/activities.js';

export async function ledgerAnchor(_input: LedgerAnchorInput = {}): Promise<LedgerAnchorResult> {
  upsertSearchAttributes([
    { key: searchAttributes.process, value: LEDGER_ANCHOR_PROCESS },
    { key: searchAttributes.clauses, value: ['7.5.3'] },
  ]);
  const anchor = await acts.captureLedgerAnchor();
  if (!anchor) {
    setCurrentDetails('The evidence ledger is empty: nothing to anchor.');
    upsertSearchAttributes([{ key: searchAttributes.state, value: 'empty' }]);
    return { status: 'empty' };
  }
  const { seq, hash, at } = anchor;
  upsertSearchAttributes([{ key: searchAttributes.ref, value: `ledger-anchor/${seq}` }]);
  if (anchor.publishedAt) {
    setCurrentDetails(`Ledger head ${seq}:${hash} was mailed on ${anchor.publishedAt}; nothing appended since.`);
    upsertSearchAttributes([{ key: searchAttributes.state, value: 'already-published' }]);
    return { status: 'already-published', seq, hash, at };
  }
  const problem = anchor.intact
    ? undefined
    : `records from seq ${anchor.verifiedThrough + 1} on are unverified; aimsflow records verify lists every break`;
  const people = await acts.ledgerAnchorRecipients();
  const mailable = people.filter((p) => p.email !== '');
  await Promise.all(mailable.map((person) => mail.sendLedgerAnchor({ seq, hash, person, ...(problem ? { problem } : {}) })));
  const recipients = mailable.map((p) => p.id);
  const skipped = people.filter((p) => p.email === '').map((p) => p.id);
  if (recipients.length === 0) {
    // Nobody to mail: the head has not left the database, so it is not noted as published.
    setCurrentDetails(`Ledger head ${seq}:${hash} not mailed: nobody among ${skipped.join(', ')} has an e-mail address.`);
    upsertSearchAttributes([{ key: searchAttributes.state, value: 'no-recipients' }]);
    return { status: 'no-recipients', seq, hash, at, recipients, skipped };
  }
  await acts.ledgerAnchorPublished({ seq, recipients });
  setCurrentDetails(`Ledger head ${seq}:${hash} (captured ${at}) mailed to ${recipients.join(', ') || 'nobody'}${skipped.length ? `; no address for ${skipped.join(', ')}` : ''}.`);
  upsertSearchAttributes([{ key: searchAttributes.state, value: 'published' }]);
  return { status: 'published', seq, hash, at, recipients, skipped };
}
