/**
 * Activities of the ledger anchor: capture the evidence ledger's head (with the hashes of the
 * records since the previous anchor), mail it with its anchor file to one recipient, and note
 * that it was published. Each is safe to retry: the same head gives the same anchor, each mail's
 * notification id (and so its Message-ID) derives from the anchor and the recipient, and the
 * first publication noted counts.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { PersonRef } from '../src/common/schemas.js';
import type { CapturedAnchor } from '../src/ledger-anchor/contract.js';
import type { Organization } from '../src/organization/schema.js';
import { anchorFile, anchorText } from '../src/records/anchors.js';
import type { RecordsStore } from '../src/records/types.js';
import type { NotificationActivities } from './notifications.js';

export interface LedgerAnchorActivityDeps {
  organization: () => Organization;
  records: Pick<RecordsStore, 'anchors' | 'check'>;
  sendNotification: NotificationActivities['sendNotification'];
}

/** `ledger-anchor/<seq>-<first 16 hex of the hash>/<person>`: one mail per anchor and recipient. */
export function ledgerAnchorNotificationId(anchor: { seq: number; hash: string }, personId: string): string {
  return `ledger-anchor/${anchor.seq}-${anchor.hash.slice(0, 16)}/${personId}`;
}

export function createLedgerAnchorActivities(deps: LedgerAnchorActivityDeps) {
  return {
    /** The ledger head as an anchor; null for an empty ledger. */
    async captureLedgerAnchor(): Promise<CapturedAnchor | null> {
      const anchor = await deps.records.anchors.capture();
      if (!anchor) return null;
      const { ledger } = await deps.records.check([]);
      return {
        seq: anchor.seq,
        hash: anchor.hash,
        at: anchor.at,
        previousSeq: anchor.previousSeq,
        recordCount: anchor.recordHashes.length,
        publishedAt: anchor.publishedAt,
        intact: ledger.intact,
        verifiedThrough: ledger.verifiedThrough,
      };
    },

    /** Who gets the anchor: the AIMS manager and every external auditor (unknown people skipped). */
    async ledgerAnchorRecipients(): Promise<PersonRef[]> {
      const org = deps.organization();
      const ids = [...new Set([org.roles.aimsManager, ...org.roles.externalAuditors])];
      return ids.map((id) => {
        const person = org.people.find((p) => p.id === id);
        return { id, name: person?.name ?? id, email: person?.email ?? '' };
      });
    },

    /** Mails the anchor and its anchor file to one person, once. */
    async sendLedgerAnchor(input: { seq: number; hash: string; person: PersonRef; problem?: string }): Promise<{ status: 'sent' | 'already-sent' }> {
      const anchor = await deps.records.anchors.get(input.seq);
      if (!anchor || anchor.hash !== input.hash) {
        throw ApplicationFailure.nonRetryable(`no ledger anchor ${input.seq}:${input.hash} was captured`, 'InvalidInput');
      }
      const { person } = input;
      const result = await deps.sendNotification({
        notificationId: ledgerAnchorNotificationId(anchor, person.id),
        kind: 'ledger.anchor',
        to: [{ name: person.name, email: person.email }],
        attachments: [
          { filename: `ledger-anchor-${anchor.seq}.json`, content: `${JSON.stringify(anchorFile(anchor))}\n`, contentType: 'application/json', encoding: 'utf-8' },
        ],
        data: {
          recipientName: person.name,
          organizationName: deps.organization().organization.name,
          title: `Evidence ledger anchor ${anchor.seq}`,
          clauses: ['7.5.3'],
          seq: anchor.seq,
          hash: anchor.hash,
          anchoredAt: anchor.at,
          anchorText: anchorText(anchor),
          ...(input.problem ? { problem: input.problem } : {}),
        },
      });
      return { status: result.status };
    },

    /** Notes that the anchor left the database, and to whom. */
    async ledgerAnchorPublished(input: { seq: number; recipients: string[] }): Promise<{ publishedAt: string | null }> {
      const anchor = await deps.records.anchors.published(input.seq, input.recipients);
      if (!anchor) throw ApplicationFailure.nonRetryable(`no ledger anchor at record ${input.seq}`, 'InvalidInput');
      return { publishedAt: anchor.publishedAt };
    },
  };
}

export type LedgerAnchorActivities = ReturnType<typeof createLedgerAnchorActivities>;
