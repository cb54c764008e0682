/** `date`: a calendar date, with an optional note. */
import { z } from 'zod';
import { calendarDate } from '../common/dates.js';
import type { FormDefinition } from './definition.js';
import { field, input, noteOf, textarea } from './fields.js';
import { note } from './keys.js';

export const dateForm: FormDefinition = {
  key: 'date',
  schema: z.object({ date: calendarDate, note }).strict(),
  parse: (body) => {
    const { note: typed, withNote } = noteOf(body);
    return { data: { date: field(body, 'date').trim(), ...withNote }, values: { date: field(body, 'date'), note: typed } };
  },
  fields: (ctx) => [
    input(ctx, 'date', 'Date', 'As YYYY-MM-DD, e.g. 2027-03-01.', { type: 'date', required: true }),
    textarea(ctx, 'note', 'Note (optional)', undefined, false),
  ],
  subjects: { date: 'The date', note: 'The note' },
  labels: { date: 'Date', note: 'Note' },
};
