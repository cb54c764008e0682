/**
 * Reporting of concerns (ISO/IEC 42001 Annex A.3.3): what anyone can report, with or without
 * their name and e-mail address, and how its triage ends. Workflow-safe.
 */
import { z } from 'zod';
import { SINGLE_LINE } from '../common/text.js';
import { durationString } from '../common/duration.js';
import type { TriageDecision } from '../forms/index.js';
import { timingPolicySchema } from '../common/schemas.js';

export const concernInputSchema = z.object({
  /** Left out for an anonymous report. */
  reporterName: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').regex(...SINGLE_LINE).optional(),
  /** Left out for an anonymous report; without it the reporter is not told the outcome. */
  reporterEmail: z.email({ message: 'must be an e-mail address such as name@example.com' }).max(254, 'must be at most 254 characters').optional(),
  /** What happened. */
  description: z.string().trim().min(10, 'must be at least 10 characters').max(10000, 'must be at most 10000 characters'),
  /** The AI system concerned, from the inventory. */
  aiSystem: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be an AI system id').optional(),
  /**
   * The reporter says the concern is about the AIMS manager: top management triages it, and the
   * AIMS manager may not take the triage over (src/people/duties.ts). Names no one else, so an
   * anonymous report stays anonymous.
   */
  aboutAimsManager: z.boolean().optional(),
  reportedAt: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time' }),
  policy: z
    .object({
      /** How long the AIMS manager has to triage it (default 7 days). */
      triageDue: durationString.optional(),
      tasks: timingPolicySchema.prefault({}),
    })
    .prefault({}),
});
export type ConcernInput = z.input<typeof concernInputSchema>;
export type ConcernSpec = z.output<typeof concernInputSchema>;

/** How long the triage task is due after the concern arrives, unless the input's policy says otherwise. */
export const DEFAULT_TRIAGE_DUE = '7d';

export interface ConcernResult {
  concernId: string;
  outcome: TriageDecision | 'cancelled';
  /** Who triaged it. */
  by: string;
  /** The NC raised (accept) or merged into (merge). */
  ncId?: string;
  note?: string;
}
