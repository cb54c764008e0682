/**
 * The definition of an AI objective (ISO/IEC 42001 6.2), shared by the organization file and the
 * admin API: statement, owner, the policy commitment it serves, its metric (name, unit,
 * direction, target, at-risk threshold), how often and how it is measured. Workflow-safe (zod
 * only, so the organization schema can use it).
 */
import { z } from 'zod';
import { SINGLE_LINE } from '../common/text.js';
import { durationString } from '../common/duration.js';

const personIdSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a person id');

export const objectiveIdSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be lowercase letters, digits, ".", "_" or "-" (max 64)');

export const metricDirections = ['higher-is-better', 'lower-is-better'] as const;
export type MetricDirection = (typeof metricDirections)[number];

const finite = (what: string) => z.number({ error: `must be a number (${what})` }).refine(Number.isFinite, 'must be a finite number');

export const metricSchema = z
  .object({
    name: z.string().trim().min(1, 'is required').max(200).regex(...SINGLE_LINE),
    unit: z.string().trim().min(1, 'is required').max(40).regex(...SINGLE_LINE),
    direction: z.enum(metricDirections, { message: 'must be "higher-is-better" or "lower-is-better"' }),
    target: finite('the target'),
    /** Past this value the objective is "at risk" (below it for higher-is-better, above it for lower-is-better). */
    atRisk: finite('the at-risk threshold'),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.direction === 'higher-is-better' && m.atRisk > m.target) {
      ctx.addIssue({ code: 'custom', path: ['atRisk'], message: 'must be at or below the target when higher is better' });
    }
    if (m.direction === 'lower-is-better' && m.atRisk < m.target) {
      ctx.addIssue({ code: 'custom', path: ['atRisk'], message: 'must be at or above the target when lower is better' });
    }
  });
export type Metric = z.output<typeof metricSchema>;

export const objectiveDefinitionSchema = z
  .object({
    id: objectiveIdSchema,
    statement: z.string().trim().min(3, 'must be at least 3 characters').max(2000),
    owner: personIdSchema,
    /** The commitment of the AI policy this objective serves (5.2 c). */
    serves: z.string().trim().min(1, 'is required').max(500),
    metric: metricSchema,
    /** How often it is measured, e.g. `90d`. */
    every: durationString.default('90d'),
    /** How it is measured: who measures (default the owner) and the method. */
    measurement: z
      .object({
        by: personIdSchema.optional(),
        method: z.string().trim().min(1, 'is required').max(2000),
      })
      .strict(),
    /** How long the measurer has for each measurement task. */
    dueIn: durationString.default('14d'),
  })
  .strict();
export type ObjectiveDefinitionInput = z.input<typeof objectiveDefinitionSchema>;
export type ObjectiveDefinition = z.output<typeof objectiveDefinitionSchema>;

