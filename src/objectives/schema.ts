/**
 * AI objectives (ISO/IEC 42001 6.2) and their measurement (9.1): the definition of an objective
 * (statement, owner, the policy commitment it serves, its metric with target and "at risk"
 * threshold, how often and how it is measured), the input of its long-lived workflow, and the
 * pure rules that judge a measured value and describe a series (evaluation, misses in a row,
 * trend). Workflow-safe.
 */
import { z } from 'zod';
import { durationString } from '../common/duration.js';
import { actorSchema, timingPolicySchema } from '../common/schemas.js';
import { objectiveDefinitionSchema, objectiveIdSchema, type Metric, type MetricDirection, type ObjectiveDefinition } from './definition.js';

export * from './definition.js';

export const OBJECTIVE_CLAUSES = ['6.2', '9.1'] as const;

export const objectiveSources = ['organization-file', 'api'] as const;
export type ObjectiveSource = (typeof objectiveSources)[number];

/** How a value compares with the objective: on target, off target, or off target past the at-risk threshold. */
export type Evaluation = 'on-target' | 'off-target' | 'at-risk';

export interface Measurement {
  n: number;
  value: number;
  method: string;
  evidence?: string;
  comment?: string;
  by: string;
  at: string;
  target: number;
  atRisk: number;
  evaluation: Evaluation;
  /** Misses in a row, this one included (0 when on target). */
  missesInRow: number;
  taskId: string;
}

/** Overrides of the timing per objective (tests use seconds). */
export const objectivePolicySchema = z.object({
  /** Measure this often instead of the definition's `every`. */
  every: durationString.optional(),
  /** The first measurement after this long (default: one interval after the start). */
  firstIn: durationString.optional(),
  dueIn: durationString.optional(),
  tasks: timingPolicySchema.prefault({}),
  /** Continue as new after this many measurements (default 20). */
  continueAsNewAfter: z.number().int().min(1).max(1000).optional(),
});
export type ObjectivePolicy = z.input<typeof objectivePolicySchema>;

/** What a run carries into the next one. */
export interface ObjectiveCarried {
  definition: ObjectiveDefinition;
  registeredAt: string;
  nextAt: string;
  series: Measurement[];
  measured: number;
  offers: number;
  ncs: string[];
  runs: number;
  history: Array<{ at: string; type: string; by: string; detail: string; workflowId?: string }>;
  recordSeq: number;
}

export const objectiveInputSchema = z.object({
  objectiveId: objectiveIdSchema,
  definition: objectiveDefinitionSchema,
  source: z.enum(objectiveSources).default('api'),
  registeredBy: actorSchema.default('system'),
  policy: objectivePolicySchema.prefault({}),
  carried: z.custom<ObjectiveCarried>().optional(),
});
export type ObjectiveInput = z.input<typeof objectiveInputSchema>;
export type ObjectiveSpec = z.output<typeof objectiveInputSchema>;

/** A change of the definition (anything but the id), with why. */
export const changeObjectiveSchema = z
  .object({
    by: actorSchema,
    reason: z.string().trim().min(1, 'a reason is required').max(2000),
    // Without the definition's defaults: a change names only what it changes.
    changes: objectiveDefinitionSchema
      .omit({ id: true, every: true, dueIn: true })
      .partial()
      .extend({ every: durationString.optional(), dueIn: durationString.optional() })
      .strict(),
  })
  .strict();
export type ChangeObjective = z.infer<typeof changeObjectiveSchema>;

export const retireObjectiveSchema = z.object({ by: actorSchema, reason: z.string().trim().min(1, 'a reason is required').max(2000) }).strict();
export type RetireObjective = z.infer<typeof retireObjectiveSchema>;

export type ObjectiveState = 'on-target' | 'off-target' | 'at-risk' | 'not-measured' | 'measuring' | 'retired';

export interface ObjectiveStatus {
  objectiveId: string;
  workflowId: string;
  definition: ObjectiveDefinition;
  source: ObjectiveSource;
  registeredAt: string;
  state: ObjectiveState;
  nextAt: string;
  /** The measurement task open now. */
  current?: { n: number; taskId: string; dueAt: string };
  series: Measurement[];
  measured: number;
  offers: number;
  ncs: string[];
  runs: number;
  retired?: { by: string; at: string; reason: string };
  history: ObjectiveCarried['history'];
}

export interface ObjectiveResult {
  objectiveId: string;
  status: 'retired';
  measured: number;
}

/** Whether `value` meets the target, misses it, or misses it past the at-risk threshold. */
export function evaluateValue(metric: Pick<Metric, 'direction' | 'target' | 'atRisk'>, value: number): Evaluation {
  const better = (a: number, b: number) => (metric.direction === 'higher-is-better' ? a >= b : a <= b);
  if (better(value, metric.target)) return 'on-target';
  // Strictly past the threshold is "at risk"; at the threshold itself only off target.
  return better(value, metric.atRisk) ? 'off-target' : 'at-risk';
}

/** Misses in a row ending with the newest measurement. */
export function missesInRow(evaluations: readonly Evaluation[]): number {
  let n = 0;
  for (let i = evaluations.length - 1; i >= 0 && evaluations[i] !== 'on-target'; i -= 1) n += 1;
  return n;
}

export type Trend = 'improving' | 'worsening' | 'steady' | 'single value' | 'no values';

/** The trend of a series over a period: the last value against the first, in the metric's direction. */
export function trendOf(direction: MetricDirection, values: readonly number[]): Trend {
  if (values.length === 0) return 'no values';
  if (values.length === 1) return 'single value';
  const delta = (values.at(-1) ?? 0) - (values[0] ?? 0);
  if (delta === 0) return 'steady';
  return (delta > 0) === (direction === 'higher-is-better') ? 'improving' : 'worsening';
}

/** An objective's person references, for checks against the organization file. */
export function objectivePeople(d: Pick<ObjectiveDefinition, 'owner' | 'measurement'>): Array<{ field: string; person: string }> {
  return [{ field: 'owner', person: d.owner }, ...(d.measurement.by ? [{ field: 'measurement.by', person: d.measurement.by }] : [])];
}
