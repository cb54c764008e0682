/** What people and systems can do to an objective's workflow: read its status and series, change its definition, retire it. */
import { setHandler } from '@temporalio/workflow';
import { changeObjectiveUpdate, objectiveStatusQuery, retireObjectiveUpdate } from '../../src/objectives/contract.js';
import { changeObjectiveSchema, objectiveDefinitionSchema, retireObjectiveSchema } from '../../src/objectives/schema.js';
import { onUpdate } from '../lib/handlers.js';
import { reject } from '../lib/util.js';
import type { Objective } from './state.js';

export function registerObjectiveHandlers(s: Objective): void {
  const ready = () => s.ready;
  const check = () => s.ensureActive();

  setHandler(objectiveStatusQuery, () => s.status());

  onUpdate(changeObjectiveUpdate, {
    schema: changeObjectiveSchema,
    ready,
    check: (input) => {
      check();
      const merged = objectiveDefinitionSchema.safeParse({ ...s.definition, ...input.changes, measurement: { ...s.definition.measurement, ...input.changes.measurement } });
      if (!merged.success) reject(merged.error.issues.map((i) => `changes.${i.path.map(String).join('.')}: ${i.message}`).join('; '));
      if (Object.keys(input.changes).length === 0) reject('changes: name at least one field to change');
    },
    apply: async (input) => {
      const before = s.definition;
      s.definition = objectiveDefinitionSchema.parse({ ...before, ...input.changes, measurement: { ...before.measurement, ...input.changes.measurement } });
      s.wake += 1;
      s.event('changed', input.by, `changed ${Object.keys(input.changes).join(', ')}: ${input.reason}`);
      s.publish();
      await s.recorder.append('objective.changed', input.by, { changes: input.changes, reason: input.reason, before, after: s.definition });
      return { ok: true as const, state: s.state(), message: `Objective ${s.objectiveId} changed.` };
    },
  });

  onUpdate(retireObjectiveUpdate, {
    schema: retireObjectiveSchema,
    ready,
    check,
    apply: (input) => {
      s.retire(input);
      return { ok: true as const, state: 'retired', message: `Objective ${s.objectiveId} is being retired.` };
    },
  });
}
