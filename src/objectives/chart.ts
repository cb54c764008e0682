/**
 * A small static SVG chart of an objective's series for the printable management-review pack:
 * the values as a line with a dot per measurement (filled by its evaluation), the target and the
 * at-risk threshold as dashed lines, the first and last dates below. Plain SVG from a pure
 * function (no charting dependency): every number is formatted here and every text escaped, so
 * the markup can be embedded in the pack as is.
 */
import type { Evaluation } from './schema.js';

export interface ChartInput {
  title: string;
  unit: string;
  target: number;
  atRisk: number;
  points: Array<{ at: string; value: number; evaluation: Evaluation }>;
}

const WIDTH = 360;
const HEIGHT = 140;
const PAD = { left: 44, right: 12, top: 18, bottom: 24 };
const COLORS: Record<Evaluation, string> = { 'on-target': '#1a7f37', 'off-target': '#9a6700', 'at-risk': '#cf222e' };

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** A number as the chart writes it: at most two decimals, no trailing zeros. */
export function fmt(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** The SVG of one objective's series (an empty-state SVG when there is no value). */
export function objectiveChartSvg(input: ChartInput): string {
  const title = escapeXml(input.title);
  const unit = escapeXml(input.unit);
  const open = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${title}" font-family="Arial, Helvetica, sans-serif" font-size="9">`;
  const frame = `<rect x="${PAD.left}" y="${PAD.top}" width="${WIDTH - PAD.left - PAD.right}" height="${HEIGHT - PAD.top - PAD.bottom}" fill="none" stroke="#d0d7de"/>`;
  const heading = `<text x="${PAD.left}" y="12" fill="#1f2328">${title} (${unit})</text>`;
  if (input.points.length === 0) {
    return `${open}<title>${title}</title>${heading}${frame}<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" fill="#57606a">no measurement in the period</text></svg>`;
  }
  const values = input.points.map((p) => p.value);
  let lo = Math.min(...values, input.target, input.atRisk);
  let hi = Math.max(...values, input.target, input.atRisk);
  if (hi === lo) {
    hi += 1;
    lo -= 1;
  }
  const margin = (hi - lo) * 0.1;
  lo -= margin;
  hi += margin;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (input.points.length === 1 ? plotW / 2 : (i * plotW) / (input.points.length - 1));
  const y = (v: number) => PAD.top + ((hi - v) * plotH) / (hi - lo);
  const hline = (v: number, color: string, label: string) =>
    `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${fmt(y(v))}" y2="${fmt(y(v))}" stroke="${color}" stroke-dasharray="4 3"/>` +
    `<text x="${PAD.left - 3}" y="${fmt(y(v) + 3)}" text-anchor="end" fill="${color}">${fmt(v)}</text>` +
    `<text x="${WIDTH - PAD.right - 2}" y="${fmt(y(v) - 2)}" text-anchor="end" fill="${color}">${label}</text>`;
  const line = `<polyline fill="none" stroke="#0969da" stroke-width="1.5" points="${input.points.map((p, i) => `${fmt(x(i))},${fmt(y(p.value))}`).join(' ')}"/>`;
  const dots = input.points
    .map((p, i) => `<circle cx="${fmt(x(i))}" cy="${fmt(y(p.value))}" r="3" fill="${COLORS[p.evaluation]}"><title>${escapeXml(p.at.slice(0, 10))}: ${fmt(p.value)} ${unit} (${p.evaluation.replace('-', ' ')})</title></circle>`)
    .join('');
  const first = escapeXml(input.points[0]!.at.slice(0, 10));
  const last = escapeXml(input.points.at(-1)!.at.slice(0, 10));
  const dates = `<text x="${PAD.left}" y="${HEIGHT - 8}" fill="#57606a">${first}</text><text x="${WIDTH - PAD.right}" y="${HEIGHT - 8}" text-anchor="end" fill="#57606a">${last}</text>`;
  return `${open}<title>${title}</title>${heading}${frame}${hline(input.target, '#1a7f37', 'target')}${hline(input.atRisk, '#cf222e', 'at risk')}${line}${dots}${dates}</svg>`;
}
