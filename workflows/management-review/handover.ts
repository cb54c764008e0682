/**
 * A management review's handover: an input owner `from` hands the inputs they have not supplied
 * to `to` (for the record and any later task; a running input task is a task and gets its own
 * handover); an attendee `from` is replaced by `to`, who is invited; the AIMS manager's part
 * (organizing, recording the minutes) goes to whoever holds the role now (`to` while the file
 * still names `from`). The approval of the minutes answers its own handover.
 */
import { acts } from '../lib/activities.js';
import { onHandover, type MovedPart } from '../lib/handover.js';
import { ref } from '../lib/people.js';
import { CLAUSES, type Review } from './state.js';

export function registerReviewHandover(review: Review): void {
  const openInputs = (id: string) => review.inputs.filter((i) => i.owner === id && i.state !== 'supplied');
  const attends = (id: string) => review.attendees.some((a) => a.id === id) || (review.setup?.attendees ?? []).includes(id);
  onHandover({
    recorder: review.recorder,
    eventType: 'handover',
    // Once the attendees are looked up (planReview), so a handover is not undone by that look-up.
    ready: () => review.setup !== undefined && review.organizer !== undefined,
    state: () => review.state,
    title: () => `Management review ${review.spec.reviewId}`,
    publish: () => review.publish(),
    holds: (from) => !review.isClosed() && (openInputs(from).length > 0 || attends(from) || review.setup?.aimsManagerId === from),
    move: async (h, to) => {
      const moved: MovedPart[] = [];
      const settings = review.settings;
      for (const input of openInputs(h.from)) {
        input.owner = to.id;
        settings.inputOwners[input.key] = to.id;
        moved.push({ part: 'input-owner', to: ref(to), what: `the owner of input (${input.key}) ${input.title}` });
      }
      if (settings.aimsManagerId === h.from) {
        const [holder] = await acts.resolvePeople([{ role: 'aims-manager' }]);
        const next = holder && !holder.unknown && !holder.insteadOf && holder.id !== h.from ? ref(holder) : ref(to);
        settings.aimsManagerId = next.id;
        if (review.organizer?.id === h.from) review.organizer = next;
        moved.push({ part: 'aims-manager', to: next, what: 'the AIMS manager (organizing the meeting, recording the minutes)', ...(next.id !== to.id ? { note: 'the AIMS manager role’s holder takes it' } : {}) });
      }
      if (attends(h.from)) {
        const replace = <T extends { id: string } | string>(list: T[], by: T): T[] => {
          const id = (x: T) => (typeof x === 'string' ? x : x.id);
          const rest = list.filter((x) => id(x) !== h.from);
          return rest.some((x) => id(x) === id(by)) ? rest : [...rest, by];
        };
        review.attendees = replace(review.attendees, ref(to));
        settings.attendees = replace(settings.attendees, to.id);
        moved.push({ part: 'attendee', to: ref(to), what: 'an attendee of the meeting', mailed: await invite(review, ref(to), h.reason) });
      }
      return moved;
    },
  });
}

/** The meeting invitation to a new attendee (with the calendar entry); false when it was not sent. */
async function invite(review: Review, to: { id: string; name: string; email: string }, reason: string): Promise<boolean> {
  const { organizer, spec } = review;
  if (!organizer || review.state === 'completed' || review.state === 'cancelled') return false;
  return review.recorder.notify(
    {
      kind: 'management-review.invitation',
      to: [to],
      data: { title: `Management review ${spec.reviewId}`, clauses: CLAUSES, meetingText: review.meetingText(), inputsDueDate: review.inputsDue(), reason },
      invite: {
        uid: review.workflowId,
        title: `Management review ${spec.reviewId}`,
        description: `Management review ${spec.reviewId} (ISO/IEC 42001 9.3).`,
        start: review.meetingStart(),
        end: review.meetingEnd(),
        sequence: review.pack ? 1 : 0,
        organizer,
      },
    },
    review.recorder.sequenced('invitation'),
  );
}
