/** `action-plan`: one or more actions, each with an owner, a due date and a description. */
import { z } from 'zod';
import { calendarDate } from '../common/dates.js';
import type { FormDefinition } from './definition.js';
import { errorFor, field, input, noteOf, rowCount, rowSentence, textarea, type FieldModel, type Values } from './fields.js';
import { note, personId, required } from './keys.js';

/** Most actions one action plan may hold. */
export const MAX_PLAN_ACTIONS = 10;

export const planActionSchema = z.object({ owner: personId, dueDate: calendarDate, description: required(5000) }).strict();
export type PlanAction = z.output<typeof planActionSchema>;

const subjects = { actions: 'The action plan', owner: 'The owner', dueDate: 'The due date', description: 'The description' };

export const actionPlanForm: FormDefinition = {
  key: 'action-plan',
  schema: z.object({ actions: z.array(planActionSchema).min(1, 'needs at least one action').max(MAX_PLAN_ACTIONS), note }).strict(),
  parse: (body) => {
    // Rows are posted as actions.<i>.owner / dueDate / description; a row left wholly empty is ignored.
    const { note: typed, withNote } = noteOf(body);
    const values: Values = { note: typed };
    const actions: Array<Record<string, string>> = [];
    for (let i = 0; i < MAX_PLAN_ACTIONS; i += 1) {
      const row = { owner: field(body, `actions.${i}.owner`).trim(), dueDate: field(body, `actions.${i}.dueDate`).trim(), description: field(body, `actions.${i}.description`) };
      for (const [k, v] of Object.entries(row)) values[`actions.${i}.${k}`] = v;
      if (row.owner || row.dueDate || row.description.trim()) actions.push(row);
    }
    return { data: { actions, ...withNote }, values };
  },
  fields: (ctx) => {
    const rows = rowCount(ctx.values, 'actions', { min: 3, spare: 1, max: MAX_PLAN_ACTIONS });
    const planError = errorFor(ctx, 'actions');
    const fields: FieldModel[] = [];
    for (let i = 0; i < rows; i += 1) {
      const n = i + 1;
      fields.push(
        input(ctx, `actions.${i}.owner`, `Action ${n}: owner`, 'Person id, e.g. sofia.lind.', { required: i === 0 }),
        input(ctx, `actions.${i}.dueDate`, `Action ${n}: due date`, 'As YYYY-MM-DD.', { type: 'date', required: i === 0 }),
        {
          ...textarea(ctx, `actions.${i}.description`, `Action ${n}: what will be done`, undefined, i === 0),
          ...(i === 0 && planError ? { error: planError } : {}),
        },
      );
    }
    return [...fields, textarea(ctx, 'note', 'Note (optional)', undefined, false)];
  },
  subjects: { ...subjects, note: 'The note' },
  labels: { actions: 'Actions', note: 'Note' },
  sentence: (name, message) => rowSentence(name, 'actions', 'Action', subjects, message),
  anchor: (name) => (name === 'actions' ? 'f-actions.0.description' : undefined),
};
