/**
 * Activities of the management review (ISO/IEC 42001 9.3): the settings a review resolves
 * from the organization file, the automatic inputs (the previous review's actions with their
 * live state, nonconformities and corrective actions, audit results), the pack mail with its
 * printable HTML and calendar invitation, and the revision of the approval when the minutes
 * change. Every source that cannot be read is reported as not available with the reason.
 */
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { summarizeNonconformities } from '../src/corrective-action/summary.js';
import { durationMs } from '../src/common/duration.js';
import {
  reviewInputKeys,
  type AutomaticInputs,
  type ManagementReviewSetup,
  type ReviewActionOutcome,
  type ReviewInputKey,
  type ReviewPack,
} from '../src/management-review/schema.js';
import { findPerson, resolveAssignees, OrganizationLookupError, type Organization } from '../src/organization/schema.js';
import type { PersonRef } from '../src/common/schemas.js';
import { summarizeInternalAudits } from '../src/internal-audit/summary.js';
import { readRegister, registerFigures } from '../src/risk/register.js';
import { linkPaths } from '../src/links/paths.js';
import type { LinkSigner } from '../src/links/signer.js';
import { calendarAttachment } from '../src/mail/calendar.js';
import { meetingText, renderPackHtml } from '../src/management-review/pack.js';
import { actionStates } from '../src/management-review/actions.js';
import { completedReviewRecords, contentOf } from '../src/management-review/summary.js';
import type { RecordsStore } from '../src/records/types.js';
import { reviseUpdate } from '../src/approval/contract.js';
import { managementReviewWorkflowId } from '../src/management-review/contract.js';
import type { NotificationActivities } from './notifications.js';
import { openImprovementItems } from '../src/improvement/items.js';
import { awarenessFigure, objectiveFigures } from '../src/objectives/figures.js';

export interface ManagementReviewActivityDeps {
  organization: () => Organization;
  records: Pick<RecordsStore, 'list' | 'head' | 'anchors'>;
  temporal: { client: Client; taskQueue: string };
  sendNotification: NotificationActivities['sendNotification'];
  links: LinkSigner;
}

const DAY_MS = 86_400_000;
const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Offset (ms) of a time zone from UTC at an instant, e.g. +3_600_000 for Europe/London in summer. */
function zoneOffsetMs(timeZone: string, atMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(atMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(atMs / 1000) * 1000;
}

/** The instant of a local date and time (`HH:MM`) in a time zone (UTC when the zone is unknown). */
export function zonedInstant(date: string, time: string, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  const guess = Date.UTC(y, m - 1, d, hh, mm);
  try {
    const first = guess - zoneOffsetMs(timeZone, guess);
    return guess - zoneOffsetMs(timeZone, first);
  } catch {
    return guess;
  }
}

/** The latest review completed before `meetingDate`, other than `workflowId`, from the ledger. */
async function previousReview(records: Pick<RecordsStore, 'list'>, workflowId: string, meetingDate: string) {
  const found = await completedReviewRecords(records);
  const earlier = found
    .map((r) => contentOf(r.content))
    .filter((c) => c.workflowId !== workflowId && typeof c.meetingDate === 'string' && c.meetingDate <= meetingDate)
    .sort((a, b) => String(a.meetingDate).localeCompare(String(b.meetingDate)) || String(a.approvedAt).localeCompare(String(b.approvedAt)));
  return earlier.at(-1);
}

export function createManagementReviewActivities(deps: ManagementReviewActivityDeps) {
  const { client, taskQueue } = deps.temporal;

  return {
    /** Owners, attendees, approvers, the meeting and the due dates of a review, from the organization file. */
    async managementReviewSetup(input: {
      reviewId: string;
      meetingDate: string;
      nowMs: number;
      periodFrom?: string;
      policy: { inputsDue?: string; meetingIn?: string; approvalDue?: string };
    }): Promise<ManagementReviewSetup & { previousReviewId: string | null }> {
      const org = deps.organization();
      const settings = org.managementReview;
      try {
        const inputOwners = {} as Record<ReviewInputKey, string>;
        for (const key of reviewInputKeys) {
          const [owner] = resolveAssignees(org, settings.inputOwners[key]);
          if (!owner) throw new OrganizationLookupError(`managementReview.inputOwners.${key}: nobody holds that role`);
          inputOwners[key] = owner;
        }
        const attendees = [
          ...new Set([...org.roles.topManagement, org.roles.aimsManager, ...Object.values(inputOwners), ...settings.attendees]),
        ];
        attendees.forEach((id) => findPerson(org, id));
        const meetingStartMs = input.policy.meetingIn
          ? input.nowMs + durationMs(input.policy.meetingIn)
          : zonedInstant(input.meetingDate, settings.meetingTime, org.organization.timezone);
        const meetingEndMs = meetingStartMs + Math.max(60_000, durationMs(settings.meetingLength));
        let inputsDueAtMs = input.policy.inputsDue
          ? input.nowMs + durationMs(input.policy.inputsDue)
          : meetingStartMs - durationMs(settings.inputsDueBefore);
        // Started late (close to the meeting): inputs are due within two days, and before the meeting.
        if (inputsDueAtMs <= input.nowMs) inputsDueAtMs = Math.min(input.nowMs + 2 * DAY_MS, meetingStartMs);
        const workflowId = managementReviewWorkflowId(input.reviewId);
        const previous = await previousReview(deps.records, workflowId, input.meetingDate);
        const previousMeeting = typeof previous?.meetingDate === 'string' ? previous.meetingDate : undefined;
        const yearBefore = new Date(Date.parse(input.meetingDate) - 365 * DAY_MS).toISOString().slice(0, 10);
        return {
          organizationName: org.organization.name,
          aimsManagerId: org.roles.aimsManager,
          inputOwners,
          attendees,
          approvers: [{ role: 'top-management' }],
          rule: settings.approvalRule,
          meetingStartMs,
          meetingEndMs,
          inputsDueAtMs,
          approvalDueMs: durationMs(input.policy.approvalDue ?? settings.approvalDue),
          periodFrom: input.periodFrom ?? (previousMeeting && previousMeeting < input.meetingDate ? previousMeeting : yearBefore),
          previousReviewId: typeof previous?.reviewId === 'string' ? previous.reviewId : null,
          taskPolicy: {
            ...(settings.reminderOffsets ? { reminderOffsets: settings.reminderOffsets } : {}),
            ...(settings.escalation ? { escalation: settings.escalation } : {}),
          },
        };
      } catch (err) {
        if (err instanceof OrganizationLookupError) throw ApplicationFailure.nonRetryable(err.message, 'OrganizationLookupError');
        throw err;
      }
    },

    /**
     * The automatic inputs: (a) the previous review's actions with their live state, (d) the
     * nonconformities and corrective actions and the audit results of the period, (e) the
     * improvement items still open.
     */
    async collectManagementReviewSources(input: {
      workflowId: string;
      meetingDate: string;
      period: { from: string; to: string };
    }): Promise<AutomaticInputs> {
      const period = {
        from: new Date(Date.parse(input.period.from)).toISOString(),
        to: new Date(Date.parse(input.period.to) + (/^\d{4}-\d{2}-\d{2}$/.test(input.period.to) ? DAY_MS : 0)).toISOString(),
      };
      const previousActions: AutomaticInputs['previousActions'] = await (async () => {
        try {
          const previous = await previousReview(deps.records, input.workflowId, input.meetingDate);
          if (!previous) return { available: true as const, reviewId: null, actions: [] };
          const actions = (Array.isArray(previous.actions) ? previous.actions : []) as ReviewActionOutcome[];
          const withState = await actionStates(client, deps.records, actions);
          return { available: true as const, reviewId: typeof previous.reviewId === 'string' ? previous.reviewId : null, actions: withState };
        } catch (err) {
          return { available: false as const, reason: `previous review: ${reasonOf(err)}` };
        }
      })();
      const nonconformities: AutomaticInputs['nonconformities'] = await summarizeNonconformities(
        { client, taskQueue, records: deps.records as Pick<RecordsStore, 'list' | 'get'> },
        period,
      ).then(
        (summary) => {
          const parts = [summary.visibility, summary.ledger].filter((p) => !p.available) as Array<{ reason: string }>;
          // Both halves unreadable: the whole source is not available; one half down shows inside the summary.
          if (parts.length === 2) return { available: false as const, reason: parts.map((p) => p.reason).join('; ') };
          return { available: true as const, summary: summary as unknown as Record<string, unknown> };
        },
        (err: unknown) => ({ available: false as const, reason: `corrective actions: ${reasonOf(err)}` }),
      );
      const audits: AutomaticInputs['audits'] = await summarizeInternalAudits(deps.records, period).then(
        (summary) =>
          summary.available
            ? { available: true as const, summary: summary as unknown as Record<string, unknown> }
            : { available: false as const, reason: summary.reason },
        (err: unknown) => ({ available: false as const, reason: `internal audits: ${reasonOf(err)}` }),
      );
      const improvements: AutomaticInputs['improvements'] = await openImprovementItems(deps.records, { to: period.to }).then(
        (items) => ({
          available: true as const,
          items: items.map((i) => ({ improvementId: i.improvementId, type: i.type, statement: i.statement, clauses: i.clauses, sourceRef: i.sourceRef, raisedAt: i.raisedAt })),
        }),
        (err: unknown) => ({ available: false as const, reason: `improvement items: ${reasonOf(err)}` }),
      );
      const objectives: AutomaticInputs['objectives'] = await objectiveFigures(deps.records, period).then(
        (list) => ({ available: true as const, objectives: list }),
        (err: unknown) => ({ available: false as const, reason: `objectives: ${reasonOf(err)}` }),
      );
      const awareness: AutomaticInputs['awareness'] = await awarenessFigure(deps.records, period).then(
        (figure) => ({ available: true as const, figure }),
        (err: unknown) => ({ available: false as const, reason: `policy acknowledgements: ${reasonOf(err)}` }),
      );
      const risks: AutomaticInputs['risks'] = await readRegister(deps.records).then(
        (entries) => ({ available: true as const, figures: registerFigures(entries) as unknown as Record<string, unknown> }),
        (err: unknown) => ({ available: false as const, reason: `risk register: ${reasonOf(err)}` }),
      );
      const ledger: AutomaticInputs['ledger'] = await (async () => {
        try {
          const head = await deps.records.head();
          const published = await deps.records.anchors.list({ throughSeq: head.seq, publishedOnly: true });
          const last = published.at(-1);
          const anchor = last?.publishedAt ? { seq: last.seq, hash: last.hash, at: last.at, publishedAt: last.publishedAt } : null;
          return { available: true as const, head, anchor };
        } catch (err) {
          return { available: false as const, reason: `evidence ledger head: ${reasonOf(err)}` };
        }
      })();
      return { collectedAt: new Date().toISOString(), period, previousActions, nonconformities, audits, improvements, risks, objectives, awareness, ledger };
    },

    /**
     * Mails the pack to the attendees: the printable HTML attached (`review-pack-<id>.html`) and
     * the meeting invitation (`invite.ics`, same UID as the first invitation, next sequence).
     */
    async sendManagementReviewPack(input: {
      notificationId: string;
      pack: ReviewPack;
      to: PersonRef[];
      organizer: PersonRef;
      sequence: number;
    }): Promise<{ sent: number; alreadySent: number }> {
      const { pack } = input;
      const html = renderPackHtml(pack, { people: Object.fromEntries(input.to.map((p) => [p.id, p.name])) });
      const supplied = pack.inputs.filter((i) => i.state === 'supplied').length;
      const invite = calendarAttachment(
        {
          uid: pack.workflowId,
          title: `Management review ${pack.reviewId}`,
          description: `Management review ${pack.reviewId} (ISO/IEC 42001 9.3). The review pack is attached to the mail (content hash ${pack.contentHash}).`,
          start: pack.meetingStart,
          end: pack.meetingEnd,
          sequence: input.sequence,
        },
        { organizer: { name: input.organizer.name, email: input.organizer.email }, attendees: input.to.map((p) => ({ name: p.name, email: p.email })) },
      );
      let sent = 0;
      let alreadySent = 0;
      for (const person of input.to) {
        const token = await deps.links.sign({ wf: pack.workflowId, action: 'tasks.mine', person: person.id });
        const result = await deps.sendNotification({
          notificationId: `${input.notificationId}/${person.id}`,
          kind: 'management-review.pack',
          to: [{ name: person.name, email: person.email }],
          attachments: [
            { filename: `review-pack-${pack.reviewId}.html`, content: html, contentType: 'text/html; charset=utf-8', encoding: 'utf-8' },
            invite,
          ],
          data: {
            recipientName: person.name,
            organizationName: pack.organizationName,
            myTasksUrl: deps.links.url(linkPaths['tasks.mine'], token),
            title: `Management review ${pack.reviewId}`,
            clauses: ['9.3'],
            meetingText: meetingText(pack.meetingStart, pack.meetingEnd),
            suppliedInputs: supplied,
            missingInputs: pack.inputs.length - supplied,
            packHash: pack.contentHash,
          },
        });
        if (result.status === 'sent') sent += 1;
        else alreadySent += 1;
      }
      return { sent, alreadySent };
    },

    /**
     * Sends the new content (pack + minutes hash) to the running approval: earlier decisions
     * become void and the approvers are asked again. Returns false when the approval is no
     * longer open (it was decided meanwhile).
     */
    async reviseManagementReviewApproval(input: {
      approvalWorkflowId: string;
      by: string;
      contentHash: string;
      summary: string;
      note: string;
    }): Promise<{ revised: boolean; reason?: string }> {
      try {
        await client.workflow.getHandle(input.approvalWorkflowId).executeUpdate(reviseUpdate, {
          args: [{ by: 'system', contentHash: input.contentHash, summary: input.summary.slice(0, 20000), note: input.note.slice(0, 2000) }],
          updateId: `${input.approvalWorkflowId}/revise/${input.contentHash}`,
        });
        return { revised: true };
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) return { revised: false, reason: err.cause?.message ?? err.message };
        if (err instanceof WorkflowNotFoundError) return { revised: false, reason: 'the approval is closed' };
        throw err;
      }
    },
  };
}

export type ManagementReviewActivities = ReturnType<typeof createManagementReviewActivities>;
