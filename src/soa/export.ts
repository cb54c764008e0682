/**
 * The Statement of Applicability as people and spreadsheets read it: printable HTML (every
 * Annex A control, included or excluded, the justification, the implementation state, the
 * owner, the evidence and the risks; the version, its hash and its approval) and CSV.
 */
import type { SoaVersion } from './store.js';

const esc = (v: string) => v.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** RFC 4180: every field quoted, quotes doubled, CRLF line ends; a leading =, +, - or @ is prefixed so a spreadsheet never runs it. */
function csvField(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function soaCsv(soa: SoaVersion): string {
  const header = ['control', 'title', 'included', 'justification', 'implementation', 'owner', 'evidence', 'risks'];
  const rows = soa.controls.map((c) => [c.control, c.title, c.included ? 'yes' : 'no', c.justification, c.implementation ?? '', c.owner ?? '', c.evidence.join(' '), c.risks.join(' ')]);
  return `${[header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

export function soaHtml(soa: SoaVersion, organizationName: string): string {
  const rows = soa.controls
    .map(
      (c) =>
        `<tr class="${c.included ? 'included' : 'excluded'}"><td>${esc(c.control)}</td><td>${esc(c.title)}</td><td>${c.included ? 'Included' : 'Excluded'}</td><td>${esc(c.justification)}</td><td>${esc(c.implementation ?? '—')}</td><td>${esc(c.owner ?? '—')}</td><td>${c.evidence.map((e) => (/^https?:\/\//.test(e) ? `<a href="${esc(e)}">${esc(e)}</a>` : esc(e))).join('<br>') || '—'}</td><td>${esc(c.risks.join(', ') || '—')}</td></tr>`,
    )
    .join('\n');
  const approved = soa.approved ? `Approved by ${esc(soa.approved.by)} on ${esc(soa.approved.at.slice(0, 10))} (${esc(soa.approved.approvalId)}).` : 'Not approved yet.';
  const included = soa.controls.filter((c) => c.included).length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Statement of Applicability, version ${soa.version}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #999;padding:.3rem;vertical-align:top;text-align:left}tr.excluded{color:#555}@media print{a{color:inherit}}</style></head>
<body><h1>Statement of Applicability</h1>
<p>${esc(organizationName)} · ISO/IEC 42001:2023 Annex A · version ${soa.version}${soa.at ? ` of ${esc(soa.at.slice(0, 10))}` : ' (baseline from the organization file)'} · ${included} of ${soa.controls.length} controls included</p>
<p>${approved} Content hash (sha256): <code>${esc(soa.hash)}</code></p>
${soa.reason ? `<p>Last change: ${esc(soa.reason)}${soa.by ? ` (${esc(soa.by)})` : ''}</p>` : ''}
<table><thead><tr><th>Control</th><th>Title</th><th>Applicability</th><th>Justification</th><th>Implementation</th><th>Owner</th><th>Evidence</th><th>Risks</th></tr></thead>
<tbody>
${rows}
</tbody></table></body></html>
`;
}
