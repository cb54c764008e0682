/** `evidence`: a summary of what was done and one or more links to the evidence. */
import { z } from 'zod';
import type { FormDefinition } from './definition.js';
import { describedBy, errorFor, field, fieldList, textarea, type FieldModel } from './fields.js';

/** Empty link boxes offered beyond those already filled, up to the form's limit. */
const SPARE_LINK_BOXES = 2;
const MAX_LINKS = 20;

export const evidenceForm: FormDefinition = {
  key: 'evidence',
  schema: z
    .object({
      summary: z.string().trim().min(1, 'is required').max(5000),
      links: z
        .array(z.url({ protocol: /^https?$/, message: 'must be an http(s) link' }))
        .min(1, 'needs at least one evidence link')
        .max(MAX_LINKS),
    })
    .strict(),
  parse: (body) => {
    const links = fieldList(body, 'links')
      .map((l) => l.trim())
      .filter(Boolean);
    return { data: { summary: field(body, 'summary'), links }, values: { summary: field(body, 'summary'), links } };
  },
  fields: (ctx) => {
    const filled = Array.isArray(ctx.values.links) ? ctx.values.links : [];
    // Every filled link is shown back; spare boxes up to the form's limit.
    const boxes = Math.max(3, filled.length, Math.min(MAX_LINKS, filled.length + SPARE_LINK_BOXES));
    const error = errorFor(ctx, 'links');
    const id = 'f-links';
    const links: FieldModel = {
      kind: 'links',
      id,
      name: 'links',
      label: 'Evidence links',
      hint: 'One link per box, each starting with https:// (a document, a ticket, a dashboard). Leave spare boxes empty.',
      ...(error ? { error } : {}),
      describedBy: describedBy(id, true, error) ?? `${id}-hint`,
      inputs: Array.from({ length: boxes }, (_, i) => {
        const linkError = errorFor(ctx, `links.${i}`);
        return { id: `f-links-${i}`, value: filled[i] ?? '', label: `Evidence link ${i + 1}`, required: i === 0, ...(linkError ? { error: linkError } : {}) };
      }),
    };
    return [textarea(ctx, 'summary', 'Summary', 'What was done, in a few sentences.', true), links];
  },
  subjects: { summary: 'The summary', links: 'The evidence' },
  labels: { summary: 'Summary', links: 'Evidence links' },
  sentence: (name, message) => {
    const link = /^links\.(\d+)$/.exec(name);
    return link ? `Link ${Number(link[1]) + 1} ${message}` : undefined;
  },
  anchor: (name) => {
    const link = /^links\.(\d+)$/.exec(name);
    return link ? `f-links-${link[1]}` : undefined;
  },
};
