/**
 * The pure rules of AI objectives: evaluation of a value against target and at-risk threshold
 * in both directions, misses in a row, the trend of a series, the definition's checks, and the
 * static SVG chart the management-review pack embeds.
 */
import { describe, expect, it } from 'vitest';
import { objectiveChartSvg } from '../src/objectives/chart.js';
import { evaluateValue, missesInRow, objectiveDefinitionSchema, trendOf } from '../src/objectives/schema.js';

describe('objective rules', () => {
  it('evaluates a value against the target and the at-risk threshold in the metric\'s direction', () => {
    const higher = { direction: 'higher-is-better' as const, target: 95, atRisk: 90 };
    expect([96, 95, 92, 90, 89.9].map((v) => evaluateValue(higher, v))).toEqual(['on-target', 'on-target', 'off-target', 'off-target', 'at-risk']);
    const lower = { direction: 'lower-is-better' as const, target: 2, atRisk: 5 };
    expect([1, 2, 3, 5, 5.1].map((v) => evaluateValue(lower, v))).toEqual(['on-target', 'on-target', 'off-target', 'off-target', 'at-risk']);
  });

  it('counts misses in a row from the newest value and reads the trend in the metric\'s direction', () => {
    expect(missesInRow(['off-target', 'on-target', 'off-target', 'at-risk'])).toBe(2);
    expect(missesInRow(['off-target', 'on-target'])).toBe(0);
    expect(missesInRow([])).toBe(0);
    expect(trendOf('higher-is-better', [90, 93, 96])).toBe('improving');
    expect(trendOf('lower-is-better', [2, 3, 4])).toBe('worsening');
    expect(trendOf('lower-is-better', [3, 3])).toBe('steady');
    expect(trendOf('higher-is-better', [3])).toBe('single value');
    expect(trendOf('higher-is-better', [])).toBe('no values');
  });

  it('refuses a definition with the threshold on the wrong side of the target or without a method, naming the field', () => {
    const result = objectiveDefinitionSchema.safeParse({
      id: 'Bad Id',
      statement: 'Keep it accurate',
      owner: 'marco.rossi',
      serves: 'Commitment 2',
      metric: { name: 'Accuracy', unit: '%', direction: 'higher-is-better', target: 95, atRisk: 97 },
      measurement: { method: '' },
    });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(paths).toContain('id: must be lowercase letters, digits, ".", "_" or "-" (max 64)');
    expect(paths).toContain('metric.atRisk: must be at or below the target when higher is better');
    expect(paths).toContain('measurement.method: is required');
  });

  it('draws a series as static SVG: a point per value coloured by its evaluation, target and threshold lines, text escaped', () => {
    const svg = objectiveChartSvg({
      title: 'Accuracy <on hold-out> & "recent"',
      unit: '%',
      target: 95,
      atRisk: 90,
      points: [
        { at: '2027-01-31T10:00:00Z', value: 92, evaluation: 'off-target' },
        { at: '2027-02-28T10:00:00Z', value: 96.5, evaluation: 'on-target' },
        { at: '2027-03-31T10:00:00Z', value: 88, evaluation: 'at-risk' },
      ],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('Accuracy &lt;on hold-out&gt; &amp; &quot;recent&quot;');
    expect(svg).not.toContain('<on hold-out>');
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg).toContain('fill="#cf222e"><title>2027-03-31: 88 % (at risk)</title>');
    expect(svg).toContain('fill="#1a7f37"><title>2027-02-28: 96.5 % (on target)</title>');
    const points = /<polyline[^>]*points="([^"]+)"/.exec(svg)![1]!.split(' ').map((p) => p.split(',').map(Number));
    expect(points).toHaveLength(3);
    // Higher values sit higher (smaller y); x grows with time.
    expect(points[1]![1]).toBeLessThan(points[0]![1]!);
    expect(points[2]![1]).toBeGreaterThan(points[0]![1]!);
    expect(points[2]![0]).toBeGreaterThan(points[0]![0]!);
    // The target line lies between the on-target and the off-target values.
    const targetY = Number(/<line [^>]*y1="([\d.]+)"[^>]*stroke="#1a7f37"/.exec(svg)![1]);
    expect(targetY).toBeGreaterThan(points[1]![1]!);
    expect(targetY).toBeLessThan(points[0]![1]!);
    expect(svg).toContain('>2027-01-31<');
    expect(svg).toContain('>2027-03-31<');
  });

  it('draws an empty series and a flat one without dividing by zero', () => {
    expect(objectiveChartSvg({ title: 'A', unit: 'x', target: 1, atRisk: 1, points: [] })).toContain('no measurement in the period');
    const flat = objectiveChartSvg({ title: 'A', unit: 'x', target: 5, atRisk: 5, points: [{ at: '2027-01-01T00:00:00Z', value: 5, evaluation: 'on-target' }] });
    expect(flat).not.toContain('NaN');
    expect(flat).not.toContain('Infinity');
  });
});
