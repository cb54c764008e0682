/**
 * What people and systems can do to an AI system's workflow: read its status, announce a
 * significant change (a signal, or an update that says what happened to it), update the
 * registration and retire the system.
 */
import { condition, log, setHandler } from '@temporalio/workflow';
import {
  aiSystemStatusQuery,
  announceChangeUpdate,
  attachChangeSignal,
  retireUpdate,
  significantChangeSignal,
  updateRegistrationUpdate,
  type ChangeAck,
} from '../../src/ai-system/contract.js';
import { significantChangeSchema, type SignificantChange } from '../../src/ai-system/impact-assessment.js';
import { retireSchema, updateRegistrationSchema } from '../../src/ai-system/schema.js';
import type { UpdateAck } from '../../src/common/messages.js';
import { zodProblems } from '../../src/common/schemas.js';
import { acts } from '../lib/activities.js';
import { onUpdate } from '../lib/handlers.js';
import { reject } from '../lib/util.js';
import { registerAiSystemHandover } from './system-handover.js';
import type { AiSystem } from './system-state.js';

/** Takes a change: attaches it to the running assessment, or keeps it for the next one. */
async function takeChange(s: AiSystem, change: SignificantChange): Promise<ChangeAck> {
  const running = s.current;
  if (running) {
    s.event('change-attached', change.by, `${change.type} change attached to ${running.assessmentRef}: ${change.why}`, running.workflowId);
    running.changes.push(change);
    if (running.handle) await running.handle.signal(attachChangeSignal, change);
    else running.queued.push(change);
    s.publish();
    await s.recorder.append('ai-system.change-announced', change.by, { change, disposition: 'attached', assessmentRef: running.assessmentRef });
    return { ok: true, state: s.state(), message: `Change attached to the running assessment ${running.workflowId}.`, disposition: 'attached', assessmentId: running.workflowId };
  }
  s.pendingChanges.push(change);
  s.wake += 1;
  s.event('change-announced', change.by, `${change.type} change announced: ${change.why}`);
  s.publish();
  await s.recorder.append('ai-system.change-announced', change.by, { change, disposition: 'pending' });
  const startAt = s.nextStartMs();
  const startsAt = startAt !== undefined ? new Date(startAt).toISOString() : undefined;
  return {
    ok: true,
    state: s.state(),
    message: `Change recorded; the reassessment starts ${startsAt ? `at ${startsAt}` : 'soon'}.`,
    disposition: 'pending',
    ...(startsAt ? { startsAt } : {}),
  };
}

export function registerAiSystemHandlers(s: AiSystem): void {
  const ready = () => s.ready;
  const check = () => s.ensureActive();
  const now = () => new Date().toISOString();

  setHandler(aiSystemStatusQuery, () => s.status());

  setHandler(significantChangeSignal, async (raw) => {
    const parsed = significantChangeSchema.safeParse(raw);
    if (!parsed.success) {
      log.warn('significant change ignored: invalid', { systemId: s.systemId, problems: zodProblems(parsed.error) });
      return;
    }
    if (!s.ready) await condition(ready);
    if (s.retired || s.retiring) {
      log.warn('significant change ignored: the system is retired', { systemId: s.systemId });
      return;
    }
    await takeChange(s, { ...parsed.data, at: now() });
  });

  onUpdate(announceChangeUpdate, { schema: significantChangeSchema, ready, check, apply: (change) => takeChange(s, { ...change, at: now() }) });

  onUpdate(updateRegistrationUpdate, {
    schema: updateRegistrationSchema,
    ready,
    check,
    apply: async (input): Promise<UpdateAck> => {
      const { changes, by, reason } = input;
      if (changes.owner) {
        const owner = await acts.resolvePerson(changes.owner).catch(() => reject(`owner: unknown person "${changes.owner}"`));
        if (owner.unknown) reject(`owner: unknown person "${changes.owner}"`);
      }
      const before = s.system;
      const changed = (Object.keys(changes) as Array<keyof typeof changes>).filter((k) => changes[k] !== before[k]);
      if (changed.length === 0) return { ok: true, state: s.state(), message: 'Nothing to change: the registration already says so.' };
      s.system = { ...before, ...changes };
      const fields = changed.join(', ');
      s.event('updated', by, `registration updated (${fields})${reason ? `: ${reason}` : ''}`);
      s.publish();
      await s.recorder.append('ai-system.updated', by, { before, after: s.system, changes, reason: reason ?? null });
      if (changes.lifecycle === 'retired') {
        s.retire({ by, reason: reason ?? 'lifecycle set to retired' });
        return { ok: true, state: 'retired', message: `Registration updated; ${s.systemId} is being retired.` };
      }
      return { ok: true, state: s.state(), message: `Registration updated (${fields}).` };
    },
  });

  registerAiSystemHandover(s);

  onUpdate(retireUpdate, {
    schema: retireSchema,
    ready,
    check,
    apply: (input): UpdateAck => {
      s.retire(input);
      return { ok: true, state: 'retired', message: `${s.systemId} is being retired${s.current ? `; the running assessment ${s.current.assessmentRef} is cancelled` : ''}.` };
    },
  });
}
