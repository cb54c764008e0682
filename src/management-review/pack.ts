/**
 * The management review pack (ISO/IEC 42001 9.3.2) as a printable HTML document: every input
 * with who supplied it and when (or that it is missing), the automatically collected parts
 * with their source (or why the source was not available), the pack's content hash and, once
 * recorded, the minutes with their decisions on the missing inputs. Rendered with handlebars,
 * so every value is escaped.
 */
import Handlebars from 'handlebars';
import { objectiveChartSvg } from '../objectives/chart.js';
import { minutesActions, missingInputDecisionText, resolveMissingInputs } from './rules.js';
import { reviewInputTitles, type AutomaticInputs, type ManagementReviewStatus, type ReviewPack } from './schema.js';

const hbs = Handlebars.create();

const TEMPLATE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Management review {{pack.reviewId}}: review pack</title>
<style>
  body { font-family: Arial, Helvetica, sans-serif; font-size: 11pt; line-height: 1.45; color: #1f2328; max-width: 50rem; margin: 2rem auto; padding: 0 1rem; }
  h1 { font-size: 18pt; margin-bottom: 0.2rem; }
  h2 { font-size: 13pt; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2rem; margin-top: 1.6rem; }
  h3 { font-size: 11pt; margin-bottom: 0.3rem; }
  .meta, .source { color: #57606a; font-size: 9.5pt; }
  .missing { color: #a40e26; font-weight: bold; }
  .unavailable { color: #9a6700; font-weight: bold; }
  .text { white-space: pre-wrap; }
  table { border-collapse: collapse; width: 100%; margin: 0.4rem 0; font-size: 10pt; }
  th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.4rem; text-align: left; vertical-align: top; }
  code { font-size: 9pt; word-break: break-all; }
  section { page-break-inside: avoid; }
  @media print { body { margin: 0; max-width: none; } a { color: inherit; text-decoration: none; } }
</style>
</head>
<body>
<header>
<p class="meta">{{pack.organizationName}} · ISO/IEC 42001 9.3 Management review</p>
<h1>Management review {{pack.reviewId}}: review pack</h1>
<p>Meeting: {{meetingText}}<br>
Workflow: <code>{{pack.workflowId}}</code><br>
Pack built: {{builtText}}<br>
Content hash (sha256): <code>{{pack.contentHash}}</code></p>
<p class="meta">Performance figures cover {{periodText}}. Inputs: {{supplied}} supplied, {{missing}} missing.</p>
{{#if ledger}}
<section id="evidence-ledger">
<h3>Evidence ledger</h3>
{{#if ledger.available}}
<p>Ledger head when the pack was built: record {{ledger.head.seq}}, hash <code>{{ledger.head.hash}}</code>, as of {{ledgerHeadText}}.<br>
{{#if ledger.anchor}}Last head published outside the database (anchor): record {{ledger.anchor.seq}}, hash <code>{{ledger.anchor.hash}}</code>, captured {{anchorAtText}}, mailed {{anchorPublishedText}}.
{{else}}No ledger head has been published outside the database yet.{{/if}}</p>
<p class="source">Check the ledger against them with <code>aimsflow records verify --anchor {{ledger.head.seq}}:{{ledger.head.hash}}</code>.</p>
{{else}}<p class="unavailable">Not available: {{ledger.reason}}</p>{{/if}}
</section>
{{/if}}
</header>

<h2>Inputs (9.3.2)</h2>
{{#each inputs}}
<section id="input-{{key}}">
<h3>({{key}}) {{title}}</h3>
{{#if supplied}}
<p class="source">Supplied by {{suppliedByName}} on {{suppliedText}} · requested from {{ownerName}}, due {{dueText}} · task <code>{{taskWorkflowId}}</code></p>
<div class="text">{{text}}</div>
{{else}}
<p class="missing">Missing: not supplied by the meeting.</p>
<p class="source">Requested from {{ownerName}}, due {{dueText}} · task <code>{{taskWorkflowId}}</code></p>
{{/if}}
{{#if (eq key "a")}}
<h3>Actions from the previous review</h3>
{{#if ../previousActions.available}}
<p class="source">Source: the ledger record of review {{#if ../previousActions.reviewId}}{{../previousActions.reviewId}}{{else}}(none){{/if}} and the live state of each action's workflow, collected {{../collectedText}}.</p>
{{#if ../previousActions.actions.length}}
<table><thead><tr><th>#</th><th>Action</th><th>Owner</th><th>Due</th><th>Input</th><th>State</th></tr></thead><tbody>
{{#each ../previousActions.actions}}<tr><td>{{n}}</td><td>{{title}}{{#if ncId}} ({{ncId}}){{/if}}<br><code>{{workflowId}}</code></td><td>{{owner}}</td><td>{{dueDate}}</td><td>({{input}})</td><td>{{state}}{{#if (eq stateSource "ledger")}} (last known, from the ledger){{/if}}</td></tr>
{{/each}}</tbody></table>
{{else}}<p>No previous review with actions was found.</p>{{/if}}
{{else}}<p class="unavailable">Not available: {{../previousActions.reason}}</p>{{/if}}
{{/if}}
{{#if (eq key "d")}}
<h3>Nonconformities and corrective actions</h3>
{{#if ../nonconformities.available}}
<p class="source">Source: the corrective-action workflows (Temporal visibility) and the evidence ledger, collected {{../collectedText}}.</p>
<table><tbody>{{#each ../nonconformities.rows}}<tr><th>{{label}}</th><td>{{value}}</td></tr>{{/each}}</tbody></table>
{{else}}<p class="unavailable">Not available: {{../nonconformities.reason}}</p>{{/if}}
<h3>Audit results</h3>
{{#if ../audits.available}}
<p class="source">Source: the internal audit programme (evidence ledger), collected {{../collectedText}}.</p>
<table><tbody>{{#each ../audits.rows}}<tr><th>{{label}}</th><td>{{value}}</td></tr>{{/each}}</tbody></table>
{{else}}<p class="unavailable">Not available: {{../audits.reason}}</p>{{/if}}
{{#if ../objectives}}
<h3>AI objectives (6.2, 9.1)</h3>
{{#if ../objectives.available}}
<p class="source">Source: the objectives' measurement workflows (evidence ledger, <code>objective.measured</code>), collected {{../collectedText}}.</p>
{{#if ../objectives.list.length}}
<table><thead><tr><th>Objective</th><th>Latest</th><th>Target</th><th>At risk past</th><th>Trend</th><th>Misses</th></tr></thead><tbody>
{{#each ../objectives.list}}<tr class="objective" id="objective-{{objectiveId}}"><td><strong>{{objectiveId}}</strong>: {{statement}}<br>{{metric.name}}</td><td>{{latestText}} ({{latestEvaluation}}, {{latestDate}})</td><td>{{target}} {{metric.unit}}</td><td>{{atRisk}} {{metric.unit}}</td><td>{{trend}} over {{measurements}} measurement(s)</td><td>{{misses}} in the period, {{missesInRow}} in a row</td></tr>
<tr><td colspan="6" class="chart">{{{chart}}}</td></tr>
{{/each}}</tbody></table>
{{else}}<p>No objective was measured in the period.</p>{{/if}}
{{else}}<p class="unavailable">Not available: {{../objectives.reason}}</p>{{/if}}
{{/if}}
{{#if ../awareness}}
<h3>Awareness of the AI policy (7.3)</h3>
{{#if ../awareness.available}}
<p class="source">Source: the policy's acknowledgement tasks (evidence ledger), collected {{../collectedText}}.</p>
{{#if ../awareness.figure.version}}
<table id="awareness"><tbody><tr><th>Policy version</th><td>{{../awareness.figure.version}}, approved {{../awareness.approvedText}}</td></tr>
<tr><th>Acknowledged</th><td>{{../awareness.figure.acknowledged}} of {{../awareness.figure.inScope}} ({{../awareness.rateText}})</td></tr>
<tr><th>Not yet acknowledged</th><td>{{#if ../awareness.figure.pending.length}}{{join ../awareness.figure.pending}}{{else}}nobody{{/if}}</td></tr></tbody></table>
{{else}}<p>No approved policy version has been sent for acknowledgement yet.</p>{{/if}}
{{else}}<p class="unavailable">Not available: {{../awareness.reason}}</p>{{/if}}
{{/if}}
{{#if ../risks}}<h3>AI risks</h3>
{{#if ../risks.available}}<p class="source">Source: the AI risk register (evidence ledger), collected {{../collectedText}}.</p>
<table><tbody>{{#each ../risks.rows}}<tr><th>{{label}}</th><td>{{value}}</td></tr>{{/each}}</tbody></table>
{{else}}<p class="unavailable">Not available: {{../risks.reason}}</p>{{/if}}{{/if}}
{{/if}}
{{#if (eq key "e")}}{{#if ../improvements}}
<h3>Improvement items still open (10.1)</h3>
{{#if ../improvements.available}}
<p class="source">Source: the evidence ledger (improvement items from audit observations and opportunities for improvement), collected {{../collectedText}}.</p>
{{#if ../improvements.items.length}}
<table><thead><tr><th>Item</th><th>Type</th><th>Clauses</th><th>From</th><th>Statement</th></tr></thead><tbody>
{{#each ../improvements.items}}<tr><td><code>{{improvementId}}</code></td><td>{{type}}</td><td>{{join clauses}}</td><td>{{sourceRef}}</td><td class="text">{{statement}}</td></tr>
{{/each}}</tbody></table>
{{else}}<p>No improvement item is open.</p>{{/if}}
{{else}}<p class="unavailable">Not available: {{../improvements.reason}}</p>{{/if}}
{{/if}}{{/if}}
</section>
{{/each}}

{{#if minutes}}
<h2>Results (9.3.3): minutes, version {{minutes.version}}</h2>
<p class="source">Recorded by {{minutes.by}} on {{minutesText}}{{#if approvalHash}} · approval bound to <code>{{approvalHash}}</code>{{/if}}{{#if approvedText}} · approved {{approvedText}}{{/if}}</p>
<p>Attendees: {{join minutes.attendees}}</p>
<h3>Decisions on opportunities for continual improvement</h3>
{{#if minutes.improvementDecisions.length}}<ul>{{#each minutes.improvementDecisions}}<li class="text">{{this}}</li>{{/each}}</ul>{{else}}<p>None.</p>{{/if}}
<h3>Decisions on changes to the AI management system</h3>
{{#if minutes.changeDecisions.length}}<ul>{{#each minutes.changeDecisions}}<li class="text">{{this}}</li>{{/each}}</ul>{{else}}<p>None.</p>{{/if}}
<h3>Decisions on inputs missing from the pack</h3>
{{#if missingDecisions.length}}
<table><thead><tr><th>Input</th><th>Decision</th></tr></thead><tbody>
{{#each missingDecisions}}<tr><td>({{input}}) {{title}}</td><td class="text">{{decision}}</td></tr>
{{/each}}</tbody></table>
{{else}}<p>{{#if missing}}None recorded.{{else}}No input was missing.{{/if}}</p>{{/if}}
<h3>Actions</h3>
{{#if actions.length}}
<table><thead><tr><th>#</th><th>Action</th><th>Owner</th><th>Due</th><th>Input</th><th>Nonconformity</th></tr></thead><tbody>
{{#each actions}}<tr><td>{{inc @index}}</td><td>{{title}}{{#if description}}<br><span class="text">{{description}}</span>{{/if}}</td><td>{{owner}}</td><td>{{dueDate}}</td><td>({{input}})</td><td>{{#if ncRef}}{{ncRef}}{{else}}{{#if nonconformity}}yes{{else}}no{{/if}}{{/if}}</td></tr>
{{/each}}</tbody></table>
{{else}}<p>None.</p>{{/if}}
{{#if minutes.notes}}<h3>Notes</h3><div class="text">{{minutes.notes}}</div>{{/if}}
{{/if}}
</body>
</html>
`;

hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
hbs.registerHelper('inc', (n: number) => n + 1);
hbs.registerHelper('join', (list: unknown) => (Array.isArray(list) ? list.join(', ') : ''));
const render = hbs.compile(TEMPLATE, { strict: false });

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `15 Dec 2026, 10:00 UTC`. */
export function formatInstant(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${hh}:${mm} UTC`;
}

/** The meeting in words: `15 Dec 2026, 10:00 UTC to 12:00 UTC`. */
export function meetingText(start: string, end: string): string {
  const e = new Date(end);
  return `${formatInstant(start)} to ${String(e.getUTCHours()).padStart(2, '0')}:${String(e.getUTCMinutes()).padStart(2, '0')} UTC`;
}

type Row = { label: string; value: string };

/** Flattens a summary object into label/value rows (nested objects as `a.b`). */
export function summaryRows(value: unknown, prefix = ''): Row[] {
  if (value === null || value === undefined) return [{ label: prefix || 'value', value: 'none' }];
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) return [{ label: prefix, value: value.length ? value.join(', ') : 'none' }];
    return value.flatMap((v, i) => summaryRows(v, `${prefix}[${i + 1}]`));
  }
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (obj.available === false) return [{ label: prefix, value: `not available: ${String(obj.reason)}` }];
    return Object.entries(obj)
      .filter(([k]) => k !== 'available')
      .flatMap(([k, v]) => summaryRows(v, prefix ? `${prefix}.${k}` : k));
  }
  return [{ label: prefix, value: typeof value === 'string' ? value : JSON.stringify(value) }];
}

/** Input (d)'s objectives with their text and chart (the chart is markup built from numbers and escaped text). */
function objectivesView(source: AutomaticInputs['objectives']) {
  if (!source) return undefined;
  if (!source.available) return source;
  return {
    available: true,
    list: source.objectives.map((o) => ({
      ...o,
      latestText: `${o.latest.value} ${o.metric.unit}`,
      latestEvaluation: o.latest.evaluation.replace('-', ' '),
      latestDate: o.latest.at.slice(0, 10),
      chart: objectiveChartSvg({ title: o.metric.name, unit: o.metric.unit, target: o.target, atRisk: o.atRisk, points: o.series }),
    })),
  };
}

function awarenessView(source: AutomaticInputs['awareness']) {
  if (!source) return undefined;
  if (!source.available) return source;
  const { figure } = source;
  return {
    available: true,
    figure,
    approvedText: figure.approvedAt ? formatInstant(figure.approvedAt) : '',
    rateText: figure.rate === null ? 'nobody in scope' : `${Math.round(figure.rate * 1000) / 10} %`,
  };
}

function automaticView(automatic: AutomaticInputs) {
  const src = <T extends { available: boolean }>(s: T) => s;
  const nc = src(automatic.nonconformities);
  const audits = src(automatic.audits);
  return {
    collectedText: formatInstant(automatic.collectedAt),
    previousActions: automatic.previousActions,
    nonconformities: nc.available ? { available: true, rows: summaryRows(nc.summary) } : nc,
    audits: audits.available ? { available: true, rows: summaryRows(audits.summary) } : audits,
    improvements: automatic.improvements,
    objectives: objectivesView(automatic.objectives),
    awareness: awarenessView(automatic.awareness),
    risks: automatic.risks && (automatic.risks.available ? { available: true, rows: summaryRows(automatic.risks.figures) } : automatic.risks),
    ledger: automatic.ledger,
    ledgerHeadText: automatic.ledger?.available ? formatInstant(automatic.ledger.head.at) : '',
    anchorAtText: automatic.ledger?.available && automatic.ledger.anchor ? formatInstant(automatic.ledger.anchor.at) : '',
    anchorPublishedText: automatic.ledger?.available && automatic.ledger.anchor ? formatInstant(automatic.ledger.anchor.publishedAt) : '',
  };
}

/** The printable HTML of a pack, with the minutes when the status carries them. */
export function renderPackHtml(
  pack: ReviewPack,
  review?: Pick<ManagementReviewStatus, 'minutes' | 'approvalHash' | 'approvedAt'> & { people?: Record<string, string> },
): string {
  const name = (id: string | undefined) => (id ? (review?.people?.[id] ?? id) : '');
  const inputs = pack.inputs.map((input) => ({
    ...input,
    supplied: input.state === 'supplied',
    ownerName: name(input.owner),
    suppliedByName: name(input.suppliedBy),
    suppliedText: input.suppliedAt ? formatInstant(input.suppliedAt) : '',
    dueText: formatInstant(input.dueAt),
  }));
  const { minutes } = review ?? {};
  return render({
    pack,
    meetingText: meetingText(pack.meetingStart, pack.meetingEnd),
    builtText: formatInstant(pack.builtAt),
    periodText: `${pack.automatic.period.from.slice(0, 10)} to ${pack.automatic.period.to.slice(0, 10)}`,
    supplied: inputs.filter((i) => i.supplied).length,
    missing: inputs.filter((i) => !i.supplied).length,
    inputs,
    ...automaticView(pack.automatic),
    minutes,
    minutesText: minutes ? formatInstant(minutes.recordedAt) : '',
    actions: minutes ? minutesActions(minutes) : [],
    missingDecisions: (minutes ? resolveMissingInputs(minutes) : []).map((d) => ({
      input: d.input,
      title: reviewInputTitles[d.input],
      decision: missingInputDecisionText(d),
    })),
    approvalHash: review?.approvalHash,
    approvedText: review?.approvedAt ? formatInstant(review.approvedAt) : '',
  });
}
