/**
 * The AI risk criteria of the organization file (ISO/IEC 42001 6.1.1, 6.1.2): how likelihood and
 * consequence are rated, the risk matrix that turns a rating into a level, which levels need
 * treatment and which residual levels top management must accept, and how often a risk of each
 * level is reviewed. Workflow-safe (zod and pure functions only).
 */
import { z } from 'zod';
import { durationString } from '../common/duration.js';

const levelName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a lowercase level name such as moderate');

/** One risk level of the matrix, lowest first: its name and how often a risk at it is reviewed. */
export const riskLevelSchema = z.object({
  name: levelName,
  /** Without a matrix: the lowest likelihood rank × consequence rank that falls in this level. */
  from: z.number().int().min(1).optional(),
  /** A risk at this level is reviewed this long after it was last assessed. */
  reviewEvery: durationString,
});

export const riskCriteriaSchema = z
  .object({
    /** Likelihood levels, lowest first; a level's rank is its position from 1. */
    likelihoodScale: z.array(levelName).min(2).max(10).default(['rare', 'unlikely', 'possible', 'likely', 'almost-certain']),
    /** Consequence levels, lowest first. */
    consequenceScale: z.array(levelName).min(2).max(10).default(['negligible', 'minor', 'moderate', 'major', 'severe']),
    /** The risk levels, lowest first. */
    levels: z
      .array(riskLevelSchema)
      .min(2)
      .max(10)
      .default([
        { name: 'low', from: 1, reviewEvery: '365d' },
        { name: 'medium', from: 5, reviewEvery: '180d' },
        { name: 'high', from: 10, reviewEvery: '90d' },
        { name: 'critical', from: 17, reviewEvery: '30d' },
      ]),
    /**
     * The risk matrix: one row per likelihood level (lowest first), one level name per
     * consequence level. Left out, a rating's level is the highest level whose `from` is at or
     * below likelihood rank × consequence rank.
     */
    matrix: z.array(z.array(levelName)).optional(),
    /** Inherent levels at or above this one need treatment (below it, a risk may be retained as it is). */
    treatmentFrom: levelName.default('medium'),
    /** Residual levels at or above this one are accepted by top management (below it, by the risk owner with the plan). */
    topManagementAcceptanceFrom: levelName.default('high'),
    /** How long each step of a risk assessment has after it starts. */
    stepDue: z
      .object({
        identify: durationString.default('14d'),
        analyse: durationString.default('14d'),
        treat: durationString.default('21d'),
        planApproval: durationString.default('7d'),
        acceptance: durationString.default('7d'),
        treatment: durationString.default('60d'),
        verification: durationString.default('14d'),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    for (const key of ['likelihoodScale', 'consequenceScale'] as const) {
      const seen = new Set<string>();
      c[key].forEach((level, i) => {
        if (seen.has(level)) ctx.addIssue({ code: 'custom', path: [key, i], message: `duplicate level "${level}"` });
        seen.add(level);
      });
    }
    const names = c.levels.map((l) => l.name);
    c.levels.forEach((l, i) => {
      if (names.indexOf(l.name) !== i) ctx.addIssue({ code: 'custom', path: ['levels', i, 'name'], message: `duplicate level "${l.name}"` });
    });
    const known = (path: (string | number)[], name: string) => {
      if (!names.includes(name)) ctx.addIssue({ code: 'custom', path, message: `unknown level "${name}" (not in levels: ${names.join(', ')})` });
    };
    known(['treatmentFrom'], c.treatmentFrom);
    known(['topManagementAcceptanceFrom'], c.topManagementAcceptanceFrom);
    if (c.matrix) {
      if (c.matrix.length !== c.likelihoodScale.length) {
        ctx.addIssue({ code: 'custom', path: ['matrix'], message: `must have one row per likelihood level (${c.likelihoodScale.length}), has ${c.matrix.length}` });
      }
      c.matrix.forEach((row, i) => {
        if (row.length !== c.consequenceScale.length) {
          ctx.addIssue({ code: 'custom', path: ['matrix', i], message: `must have one level per consequence level (${c.consequenceScale.length}), has ${row.length}` });
        }
        row.forEach((cell, j) => known(['matrix', i, j], cell));
      });
      return;
    }
    const max = c.likelihoodScale.length * c.consequenceScale.length;
    c.levels.forEach((l, i) => {
      if (l.from === undefined) {
        ctx.addIssue({ code: 'custom', path: ['levels', i, 'from'], message: 'is required when there is no matrix' });
        return;
      }
      if (i === 0 && l.from !== 1) ctx.addIssue({ code: 'custom', path: ['levels', 0, 'from'], message: 'must be 1 (the lowest level starts at the lowest rating)' });
      const before = c.levels[i - 1]?.from;
      if (i > 0 && before !== undefined && l.from <= before) ctx.addIssue({ code: 'custom', path: ['levels', i, 'from'], message: `must be above the level before (${before})` });
      if (l.from > max) ctx.addIssue({ code: 'custom', path: ['levels', i, 'from'], message: `must be at most ${max} (the highest likelihood rank × consequence rank)` });
    });
  });

export type RiskCriteria = z.output<typeof riskCriteriaSchema>;

/** A rating on the criteria: likelihood and consequence by level name. */
export interface RiskRating {
  likelihood: string;
  consequence: string;
}

/** What a rating comes to: its score (rank × rank), its level and the level's rank (from 1). */
export interface RiskScore {
  score: number;
  level: string;
  rank: number;
}

/** Why a rating is not on the scales, one problem per field; empty when it is. */
export function ratingProblems(c: Pick<RiskCriteria, 'likelihoodScale' | 'consequenceScale'>, r: RiskRating, path = ''): Array<{ field: string; message: string }> {
  const problems: Array<{ field: string; message: string }> = [];
  if (!c.likelihoodScale.includes(r.likelihood)) problems.push({ field: `${path}likelihood`, message: `"${r.likelihood}" is not on the likelihood scale (${c.likelihoodScale.join(', ')})` });
  if (!c.consequenceScale.includes(r.consequence)) problems.push({ field: `${path}consequence`, message: `"${r.consequence}" is not on the consequence scale (${c.consequenceScale.join(', ')})` });
  return problems;
}

/** The level of a rating through the matrix (or the bands); throws on a rating off the scales (check `ratingProblems` first). */
export function scoreRisk(c: RiskCriteria, r: RiskRating): RiskScore {
  const li = c.likelihoodScale.indexOf(r.likelihood);
  const ci = c.consequenceScale.indexOf(r.consequence);
  if (li < 0 || ci < 0) throw new RangeError(`rating ${r.likelihood} × ${r.consequence} is not on the scales`);
  const score = (li + 1) * (ci + 1);
  let level: string;
  if (c.matrix) level = c.matrix[li]?.[ci] ?? c.levels[0]!.name;
  else level = [...c.levels].reverse().find((l) => (l.from ?? 1) <= score)?.name ?? c.levels[0]!.name;
  return { score, level, rank: levelRank(c, level) };
}

/** A level's rank, from 1 (lowest); 0 for a name that is not a level. */
export function levelRank(c: Pick<RiskCriteria, 'levels'>, level: string): number {
  return c.levels.findIndex((l) => l.name === level) + 1;
}

/** Whether an inherent level needs treatment. */
export function needsTreatment(c: RiskCriteria, level: string): boolean {
  return levelRank(c, level) >= levelRank(c, c.treatmentFrom);
}

/** Whether a residual level must be accepted by top management. */
export function needsTopManagementAcceptance(c: RiskCriteria, level: string): boolean {
  return levelRank(c, level) >= levelRank(c, c.topManagementAcceptanceFrom);
}

/** How often a risk at `level` is reviewed (the duration string). */
export function reviewInterval(c: RiskCriteria, level: string): string {
  return c.levels.find((l) => l.name === level)?.reviewEvery ?? '365d';
}
