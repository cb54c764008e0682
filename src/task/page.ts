/**
 * The task page (`/t?token=`): what, why, the clauses, the due date, who holds the task, the
 * form for its form key and the recent history. GET reads the live status through the
 * workflow's status query; POST validates the form (re-rendering it with the errors beside
 * the fields and every value kept) and completes the task through the workflow's update.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MAX_PLAN_ACTIONS, validateForm, type FormKey, type FormProblem } from '../forms/index.js';
import { impactAreas, impactScalesOf, MAX_IMPACTS } from '../forms/index.js';
import { auditFindingTypes, MAX_AUDIT_FINDINGS } from '../forms/index.js';
import { linkPaths } from '../links/paths.js';
import type { TaskStatus } from './schema.js';
import type { LinkClaims } from '../links/signer.js';
import { completeTaskUpdate, TASK_WORKFLOW, taskStatusQuery } from './contract.js';

import { csrfToken } from '../api/csrf.js';
import { describeClause } from '../api/views/clauses.js';
import {
  dayText,
  describeWork,
  field,
  fieldList,
  formBody,
  isRunning,
  myTasksUrl,
  PageError,
  paragraphs,
  personName,
  requireSameSiteForm,
  requireTemporal,
  sendMessage,
  sendPage,
  timeText,
  tokenFrom,
  verifyPageLink,
  verifyPostedLink,
  type MessageModel,
  type PageContext,
} from '../api/pages/common.js';

const HISTORY_SHOWN = 10;

const sentenceCase = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
/** Empty link boxes offered on an evidence form, beyond those already filled (up to the form's 20 links). */
const SPARE_LINK_BOXES = 2;
const MAX_LINK_BOXES = 20;

type Values = Record<string, string | string[]>;

interface FieldModel {
  kind: 'textarea' | 'input' | 'radios' | 'links';
  id: string;
  name: string;
  label: string;
  hint?: string;
  type?: string;
  value?: string;
  required?: boolean;
  error?: string;
  describedBy?: string;
  options?: Array<{ id: string; value: string; label: string; checked: boolean }>;
  inputs?: Array<{ id: string; value: string; label: string; required: boolean; error?: string }>;
}

/** How a form field is named in a sentence ("The summary is required"). */
const subjects: Record<string, string> = {
  text: 'Your answer',
  summary: 'The summary',
  links: 'The evidence',
  answer: 'Yes or no',
  justification: 'The justification',
  date: 'The date',
  note: 'The note',
  choice: 'The choice',
  method: 'The method',
  analysis: 'The analysis',
  rootCause: 'The root cause',
  similarElsewhere: 'The answer on similar nonconformities',
  similarDetail: 'The explanation',
  actions: 'The action plan',
  owner: 'The owner',
  dueDate: 'The due date',
  description: 'The description',
  decision: 'The decision',
  severity: 'The severity',
  ncId: 'The nonconformity id',
  intendedUse: 'The intended use',
  foreseeableMisuse: 'The foreseeable misuse',
  deploymentContext: 'The deployment context',
  jurisdictions: 'The jurisdictions',
  affectedIndividuals: 'The affected individuals',
  affectedGroups: 'The affected groups',
  society: 'The effect on society',
  impacts: 'The impacts',
  area: 'The area',
  likelihood: 'The likelihood',
  mitigation: 'The mitigation',
  residualSeverity: 'The residual severity',
  residualLikelihood: 'The residual likelihood',
  findings: 'The findings',
  type: 'The grade',
  refs: 'The clauses or controls',
  statement: 'The statement',
  evidence: 'The evidence',
};

/** Impact rows offered on an impact-assessment form, beyond those already filled. */
const SPARE_IMPACT_ROWS = 1;
const MIN_IMPACT_ROWS = 2;
const impactFields = ['area', 'description', 'severity', 'likelihood', 'mitigation', 'residualSeverity', 'residualLikelihood'] as const;
const impactRadioFields: readonly string[] = ['area', 'severity', 'likelihood', 'residualSeverity', 'residualLikelihood'];

/** Finding rows offered on an audit-findings form, beyond those already filled. */
const SPARE_FINDING_ROWS = 1;
const MIN_FINDING_ROWS = 2;
const findingFields = ['type', 'refs', 'statement', 'evidence', 'owner'] as const;
const findingTypeLabels: Record<(typeof auditFindingTypes)[number], string> = {
  'major-nc': 'Major nonconformity',
  'minor-nc': 'Minor nonconformity',
  observation: 'Observation',
  opportunity: 'Opportunity for improvement',
};

/** Action rows offered on an action-plan form, beyond those already filled. */
const SPARE_ACTION_ROWS = 1;
const MIN_ACTION_ROWS = 3;

function sentence(fieldName: string, message: string): string {
  if (fieldName === 'answer') return 'Choose yes or no';
  if (fieldName === 'choice') return `Choose one of the options${/^must be one of/.test(message) ? '' : ` (${message})`}`;
  if (fieldName === 'similarElsewhere') return 'Answer whether similar nonconformities could exist or occur elsewhere';
  if (fieldName === 'method') return 'Choose the analysis method';
  if (fieldName === 'decision') return 'Choose accept, reject or merge';
  if (fieldName === 'severity') return `Choose the severity${/^must be/.test(message) ? '' : ` (${message})`}`;
  const finding = /^findings\.(\d+)\.(\w+)(\.\d+)?$/.exec(fieldName);
  if (finding) return `Finding ${Number(finding[1]) + 1}: ${(subjects[finding[2] ?? ''] ?? finding[2] ?? '').toLowerCase()} ${message}`;
  const impact = /^impacts\.(\d+)\.(\w+)$/.exec(fieldName);
  if (impact) return `Impact ${Number(impact[1]) + 1}: ${(subjects[impact[2] ?? ''] ?? impact[2] ?? '').toLowerCase()} ${message}`;
  const link = /^links\.(\d+)$/.exec(fieldName);
  if (link) return `Link ${Number(link[1]) + 1} ${message}`;
  const action = /^actions\.(\d+)\.(\w+)$/.exec(fieldName);
  if (action) return `Action ${Number(action[1]) + 1}: ${(subjects[action[2] ?? ''] ?? action[2] ?? '').toLowerCase()} ${message}`;
  return `${subjects[fieldName] ?? fieldName} ${message}`;
}

/** The completion data a form key expects, taken from the posted fields; plus the values to show back. */
export function taskFormInput(form: FormKey, body: Values): { data: Record<string, unknown>; values: Values } {
  const note = field(body, 'note');
  const withNote = note.trim() ? { note } : {};
  switch (form) {
    case 'text':
      return { data: { text: field(body, 'text') }, values: { text: field(body, 'text') } };
    case 'evidence': {
      const links = fieldList(body, 'links')
        .map((l) => l.trim())
        .filter(Boolean);
      return {
        data: { summary: field(body, 'summary'), links },
        values: { summary: field(body, 'summary'), links },
      };
    }
    case 'yes-no': {
      const answer = field(body, 'answer');
      return {
        data: { ...(answer ? { answer } : {}), justification: field(body, 'justification') },
        values: { answer, justification: field(body, 'justification') },
      };
    }
    case 'date':
      return { data: { date: field(body, 'date').trim(), ...withNote }, values: { date: field(body, 'date'), note } };
    case 'choice':
      return { data: { choice: field(body, 'choice'), ...withNote }, values: { choice: field(body, 'choice'), note } };
    case 'root-cause': {
      const names = ['method', 'analysis', 'rootCause', 'similarElsewhere', 'similarDetail'] as const;
      const values: Values = Object.fromEntries(names.map((n) => [n, field(body, n)]));
      const data = Object.fromEntries(Object.entries(values).filter(([k, v]) => v !== '' || !['method', 'similarElsewhere'].includes(k)));
      return { data, values };
    }
    case 'action-plan': {
      // Rows are posted as actions.<i>.owner / dueDate / description; a row left wholly empty is ignored.
      const values: Values = { note };
      const actions: Array<Record<string, string>> = [];
      for (let i = 0; i < MAX_PLAN_ACTIONS; i += 1) {
        const row = { owner: field(body, `actions.${i}.owner`).trim(), dueDate: field(body, `actions.${i}.dueDate`).trim(), description: field(body, `actions.${i}.description`) };
        for (const [k, v] of Object.entries(row)) values[`actions.${i}.${k}`] = v;
        if (row.owner || row.dueDate || row.description.trim()) actions.push(row);
      }
      return { data: { actions, ...withNote }, values };
    }
    case 'impact-scoping': {
      const names = ['intendedUse', 'foreseeableMisuse', 'deploymentContext', 'affectedIndividuals', 'affectedGroups', 'society'] as const;
      const values: Values = { ...Object.fromEntries(names.map((n) => [n, field(body, n)])), jurisdictions: field(body, 'jurisdictions'), note };
      // Jurisdictions are typed as one list separated by commas or new lines.
      const jurisdictions = field(body, 'jurisdictions')
        .split(/[,\n]/)
        .map((j) => j.trim())
        .filter(Boolean);
      return { data: { ...Object.fromEntries(names.map((n) => [n, field(body, n)])), jurisdictions, ...withNote }, values };
    }
    case 'impact-assessment': {
      // Rows are posted as impacts.<i>.<field>; a row left wholly empty is ignored.
      const values: Values = { note };
      const impacts: Array<Record<string, string>> = [];
      for (let i = 0; i < MAX_IMPACTS; i += 1) {
        const row: Record<string, string> = Object.fromEntries(impactFields.map((f) => [f, field(body, `impacts.${i}.${f}`).trim()]));
        for (const [k, v] of Object.entries(row)) values[`impacts.${i}.${k}`] = v;
        if (Object.values(row).some(Boolean)) impacts.push(row);
      }
      return { data: { impacts, ...withNote }, values };
    }
    case 'audit-findings': {
      // Rows are posted as findings.<i>.<field>; a row left wholly empty is ignored. Clauses and controls are one list.
      const values: Values = { note };
      const findings: Array<Record<string, unknown>> = [];
      for (let i = 0; i < MAX_AUDIT_FINDINGS; i += 1) {
        const row: Record<string, string> = Object.fromEntries(findingFields.map((f) => [f, field(body, `findings.${i}.${f}`).trim()]));
        for (const [k, v] of Object.entries(row)) values[`findings.${i}.${k}`] = v;
        if (!Object.values(row).some(Boolean)) continue;
        findings.push({
          type: row.type,
          refs: (row.refs ?? '').split(/[,\s]+/).filter(Boolean),
          statement: row.statement,
          evidence: row.evidence,
          ...(row.owner ? { owner: row.owner } : {}),
        });
      }
      return { data: { findings, ...withNote }, values };
    }
    case 'triage': {
      const names = ['decision', 'severity', 'owner', 'ncId'] as const;
      const values: Values = { ...Object.fromEntries(names.map((n) => [n, field(body, n).trim()])), note };
      const data = Object.fromEntries(Object.entries(values).filter(([, v]) => typeof v === 'string' && v.trim() !== ''));
      return { data, values };
    }
  }
}

function errorFor(problems: FormProblem[], name: string): string | undefined {
  const found = problems.filter((p) => p.field === name);
  return found.length ? found.map((p) => sentence(name, p.message)).join('; ') : undefined;
}

const describedBy = (id: string, hint: boolean, error: string | undefined) =>
  [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;

function textarea(name: string, label: string, hint: string | undefined, values: Values, problems: FormProblem[], required: boolean): FieldModel {
  const id = `f-${name}`;
  const error = errorFor(problems, name);
  return {
    kind: 'textarea',
    id,
    name,
    label,
    ...(hint ? { hint } : {}),
    value: typeof values[name] === 'string' ? values[name] : '',
    required,
    ...(error ? { error } : {}),
    ...(describedBy(id, !!hint, error) ? { describedBy: describedBy(id, !!hint, error) } : {}),
  };
}

function radios(
  name: string,
  label: string,
  options: Array<{ value: string; label: string }>,
  values: Values,
  problems: FormProblem[],
): FieldModel {
  const id = `f-${name}`;
  const error = errorFor(problems, name);
  const current = typeof values[name] === 'string' ? values[name] : '';
  return {
    kind: 'radios',
    id,
    name,
    label,
    required: true,
    ...(error ? { error, describedBy: `${id}-error` } : {}),
    options: options.map((o, i) => ({ id: `${id}-${i}`, value: o.value, label: o.label, checked: o.value === current })),
  };
}

function textInput(name: string, label: string, hint: string, values: Values, problems: FormProblem[]): FieldModel {
  const id = `f-${name}`;
  const error = errorFor(problems, name);
  return {
    kind: 'input',
    id,
    name,
    type: 'text',
    label,
    hint,
    value: typeof values[name] === 'string' ? values[name] : '',
    required: false,
    ...(error ? { error } : {}),
    describedBy: describedBy(id, true, error) ?? `${id}-hint`,
  };
}

/** The fields of a form key, with the values to show and an error beside each failing field. */
export function taskFormFields(form: FormKey, choices: readonly string[], values: Values, problems: FormProblem[]): FieldModel[] {
  switch (form) {
    case 'text':
      return [textarea('text', 'Your answer', undefined, values, problems, true)];
    case 'evidence': {
      const filled = Array.isArray(values.links) ? values.links : [];
      // Every filled link is shown back; spare boxes up to the form's limit.
      const boxes = Math.max(3, filled.length, Math.min(MAX_LINK_BOXES, filled.length + SPARE_LINK_BOXES));
      const error = errorFor(problems, 'links');
      const id = 'f-links';
      const hint = 'One link per box, each starting with https:// (a document, a ticket, a dashboard). Leave spare boxes empty.';
      return [
        textarea('summary', 'Summary', 'What was done, in a few sentences.', values, problems, true),
        {
          kind: 'links',
          id,
          name: 'links',
          label: 'Evidence links',
          hint,
          ...(error ? { error } : {}),
          describedBy: describedBy(id, true, error) ?? `${id}-hint`,
          inputs: Array.from({ length: boxes }, (_, i) => {
            const linkError = errorFor(problems, `links.${i}`);
            return {
              id: `f-links-${i}`,
              value: filled[i] ?? '',
              label: `Evidence link ${i + 1}`,
              required: i === 0,
              ...(linkError ? { error: linkError } : {}),
            };
          }),
        },
      ];
    }
    case 'yes-no':
      return [
        radios('answer', 'Your answer', [
          { value: 'yes', label: 'Yes' },
          { value: 'no', label: 'No' },
        ], values, problems),
        textarea('justification', 'Justification', 'Why: needed whichever way you answer.', values, problems, true),
      ];
    case 'date': {
      const id = 'f-date';
      const error = errorFor(problems, 'date');
      return [
        {
          kind: 'input',
          id,
          name: 'date',
          type: 'date',
          label: 'Date',
          hint: 'As YYYY-MM-DD, e.g. 2027-03-01.',
          value: typeof values.date === 'string' ? values.date : '',
          required: true,
          ...(error ? { error } : {}),
          describedBy: describedBy(id, true, error) ?? `${id}-hint`,
        },
        textarea('note', 'Note (optional)', undefined, values, problems, false),
      ];
    }
    case 'choice':
      return [
        radios('choice', 'Your choice', choices.map((c) => ({ value: c, label: c })), values, problems),
        textarea('note', 'Note (optional)', undefined, values, problems, false),
      ];
    case 'root-cause':
      return [
        radios('method', 'Analysis method', [
          { value: '5-whys', label: '5 whys' },
          { value: 'cause-categories', label: 'Cause categories (people, process, data, model, tooling, supplier)' },
        ], values, problems),
        textarea('analysis', 'Analysis', 'The whys in order, or the categories considered and what each showed.', values, problems, true),
        textarea('rootCause', 'Root cause', 'The cause that, once removed, stops this from happening again.', values, problems, true),
        radios('similarElsewhere', 'Could similar nonconformities exist or occur elsewhere?', [
          { value: 'yes', label: 'Yes' },
          { value: 'no', label: 'No' },
        ], values, problems),
        textarea('similarDetail', 'Where, or why not', 'Which other processes, AI systems or sites you checked, and what you found.', values, problems, true),
      ];
    case 'action-plan': {
      const filled = Object.keys(values).filter((k) => /^actions\.\d+\.\w+$/.test(k) && values[k]).map((k) => Number(k.split('.')[1]));
      const rows = Math.min(MAX_PLAN_ACTIONS, Math.max(MIN_ACTION_ROWS, (filled.length ? Math.max(...filled) + 1 : 0) + SPARE_ACTION_ROWS));
      const fields: FieldModel[] = [];
      const planError = errorFor(problems, 'actions');
      for (let i = 0; i < rows; i += 1) {
        const n = i + 1;
        const input = (name: string, label: string, type: string, hint: string): FieldModel => {
          const id = `f-actions.${i}.${name}`;
          const error = errorFor(problems, `actions.${i}.${name}`);
          const value = values[`actions.${i}.${name}`];
          return {
            kind: 'input',
            id,
            name: `actions.${i}.${name}`,
            type,
            label,
            hint,
            value: typeof value === 'string' ? value : '',
            required: i === 0,
            ...(error ? { error } : {}),
            describedBy: describedBy(id, true, error) ?? `${id}-hint`,
          };
        };
        fields.push(
          input('owner', `Action ${n}: owner`, 'text', 'Person id, e.g. sofia.lind.'),
          input('dueDate', `Action ${n}: due date`, 'date', 'As YYYY-MM-DD.'),
          {
            ...textarea(`actions.${i}.description`, `Action ${n}: what will be done`, undefined, values, problems, i === 0),
            ...(i === 0 && planError ? { error: planError } : {}),
          },
        );
      }
      return [...fields, textarea('note', 'Note (optional)', undefined, values, problems, false)];
    }
    case 'impact-scoping':
      return [
        textarea('intendedUse', 'Intended use', 'What the AI system is for, who uses it and how its outputs are used.', values, problems, true),
        textarea('foreseeableMisuse', 'Reasonably foreseeable misuse', 'How it could be used other than intended, by users or others.', values, problems, true),
        textarea('deploymentContext', 'Deployment context', 'Where and how it runs: channels, human oversight, volumes, other systems involved.', values, problems, true),
        { ...textInput('jurisdictions', 'Jurisdictions', 'Where it is used or has effects, separated by commas, e.g. UK, Ireland, EU.', values, problems), required: true },
        textarea('affectedIndividuals', 'Affected individuals', 'Who is affected directly: users, customers, employees, others.', values, problems, true),
        textarea('affectedGroups', 'Affected groups', 'Groups that could be affected differently, e.g. by age, disability or income.', values, problems, true),
        textarea('society', 'Society', 'Wider effects: on markets, public services, the environment, trust.', values, problems, true),
        textarea('note', 'Note (optional)', undefined, values, problems, false),
      ];
    case 'impact-assessment': {
      const scales = impactScalesOf(choices);
      const filled = Object.keys(values).filter((k) => /^impacts\.\d+\.\w+$/.test(k) && values[k]).map((k) => Number(k.split('.')[1]));
      const rows = Math.min(MAX_IMPACTS, Math.max(MIN_IMPACT_ROWS, (filled.length ? Math.max(...filled) + 1 : 0) + SPARE_IMPACT_ROWS));
      const scale = (levels: string[]) => levels.map((l) => ({ value: l, label: sentenceCase(l.replace(/-/g, ' ')) }));
      const fields: FieldModel[] = [];
      const listError = errorFor(problems, 'impacts');
      for (let i = 0; i < rows; i += 1) {
        const n = i + 1;
        const name = (f: string) => `impacts.${i}.${f}`;
        const optionalRadios = (f: string, label: string, options: Array<{ value: string; label: string }>): FieldModel => ({
          ...radios(name(f), label, options, values, problems),
          required: i === 0,
        });
        fields.push(
          {
            ...optionalRadios('area', `Impact ${n}: on whom`, impactAreas.map((a) => ({ value: a, label: a === 'society' ? 'Society (A.5.5)' : `${sentenceCase(a)} (A.5.4)` }))),
            ...(i === 0 && listError ? { error: listError } : {}),
          },
          textarea(name('description'), `Impact ${n}: what could happen`, undefined, values, problems, i === 0),
          optionalRadios('severity', `Impact ${n}: severity`, scale(scales.severity)),
          optionalRadios('likelihood', `Impact ${n}: likelihood`, scale(scales.likelihood)),
          textarea(name('mitigation'), `Impact ${n}: mitigation`, 'What is done, or will be done, to reduce it.', values, problems, i === 0),
          optionalRadios('residualSeverity', `Impact ${n}: severity after mitigation`, scale(scales.severity)),
          optionalRadios('residualLikelihood', `Impact ${n}: likelihood after mitigation`, scale(scales.likelihood)),
        );
      }
      return [...fields, textarea('note', 'Note (optional)', 'Leave rows you do not need empty.', values, problems, false)];
    }
    case 'audit-findings': {
      const filled = Object.keys(values).filter((k) => /^findings\.\d+\.\w+$/.test(k) && values[k]).map((k) => Number(k.split('.')[1]));
      const rows = Math.min(MAX_AUDIT_FINDINGS, Math.max(MIN_FINDING_ROWS, (filled.length ? Math.max(...filled) + 1 : 0) + SPARE_FINDING_ROWS));
      const fields: FieldModel[] = [];
      for (let i = 0; i < rows; i += 1) {
        const n = i + 1;
        const name = (f: string) => `findings.${i}.${f}`;
        // A bad clause in the list is reported against the list's box.
        const refProblems = problems.map((p) => (p.field.startsWith(`${name('refs')}.`) ? { ...p, field: name('refs') } : p));
        fields.push(
          {
            ...radios(name('type'), `Finding ${n}: grade`, auditFindingTypes.map((t) => ({ value: t, label: findingTypeLabels[t] })), values, problems),
            required: false,
          },
          textInput(name('refs'), `Finding ${n}: clauses or controls`, 'Separated by commas, e.g. 9.2, A.6.2.6.', values, refProblems),
          textarea(name('statement'), `Finding ${n}: statement`, 'What was found, against which requirement.', values, problems, false),
          textarea(name('evidence'), `Finding ${n}: evidence`, 'What was seen: records sampled, interviews, observations.', values, problems, false),
          textInput(name('owner'), `Finding ${n}: owner of the corrective action (nonconformities)`, 'Person id, e.g. sofia.lind. Leave empty for the auditee.', values, problems),
        );
      }
      return [...fields, textarea('note', 'Note', 'Required when there are no findings: say what was checked. Leave rows you do not need empty.', values, problems, false)];
    }
    case 'triage':
      return [
        radios('decision', 'Your decision', [
          { value: 'accept', label: 'Accept: raise a nonconformity for it' },
          { value: 'reject', label: 'Reject: the reporter, if they gave an e-mail address, is told the reason' },
          { value: 'merge', label: 'Merge: attach it to an open nonconformity' },
        ], values, problems),
        {
          ...radios('severity', 'Severity (to accept)', [
            { value: 'major', label: 'Major' },
            { value: 'minor', label: 'Minor' },
          ], values, problems),
          required: false,
        },
        textInput('owner', 'Owner of the corrective action (to accept, optional)', 'Person id, e.g. sofia.lind. Leave empty to own it yourself.', values, problems),
        textInput('ncId', 'Nonconformity to merge into (to merge)', 'Its id, e.g. NC-2027-004.', values, problems),
        textarea('note', 'Note', 'Required to reject: the reason the reporter is told. Optional otherwise.', values, problems, false),
      ];
  }
}

/** The error summary: one entry per failing field, linking to it. */
function errorSummary(problems: FormProblem[]): Array<{ id: string; text: string }> {
  return problems.map((p) => {
    const impact = /^impacts\.(\d+)\.(\w+)$/.exec(p.field);
    if (impact && impactRadioFields.includes(impact[2] ?? '')) return { id: `f-${p.field}-0`, text: sentence(p.field, p.message) };
    if (p.field === 'impacts') return { id: 'f-impacts.0.area-0', text: sentence(p.field, p.message) };
    const link = /^links\.(\d+)$/.exec(p.field);
    const radio = ['answer', 'choice', 'method', 'similarElsewhere', 'decision', 'severity'].includes(p.field);
    const id = link ? `f-links-${link[1]}` : p.field === 'actions' ? 'f-actions.0.description' : radio ? `f-${p.field}-0` : `f-${p.field}`;
    return { id, text: sentence(p.field, p.message) };
  });
}

const completionLabels: Record<string, string> = {
  text: 'Answer',
  summary: 'Summary',
  links: 'Evidence links',
  answer: 'Yes or no',
  justification: 'Justification',
  date: 'Date',
  note: 'Note',
  choice: 'Choice',
  method: 'Method',
  analysis: 'Analysis',
  rootCause: 'Root cause',
  similarElsewhere: 'Similar nonconformities elsewhere',
  similarDetail: 'Where, or why not',
  actions: 'Actions',
  decision: 'Decision',
  severity: 'Severity',
  owner: 'Owner',
  ncId: 'Nonconformity',
  intendedUse: 'Intended use',
  foreseeableMisuse: 'Reasonably foreseeable misuse',
  deploymentContext: 'Deployment context',
  jurisdictions: 'Jurisdictions',
  affectedIndividuals: 'Affected individuals',
  affectedGroups: 'Affected groups',
  society: 'Society',
  impacts: 'Impacts',
};

const isHttpUrl = (value: unknown): value is string => typeof value === 'string' && /^https?:\/\//i.test(value);

function completionEntries(data: Record<string, unknown>): Array<{ label: string; value?: string; links?: string[] }> {
  return Object.entries(data).map(([key, value]) => {
    const label = completionLabels[key] ?? key;
    if (Array.isArray(value) && value.every(isHttpUrl)) return { label, links: value };
    return { label, value: typeof value === 'string' ? value : JSON.stringify(value) };
  });
}

interface TaskView {
  status: TaskStatus;
  running: boolean;
  claims: LinkClaims;
  token: string;
  values?: Values;
  problems?: FormProblem[];
  notice?: { kind: 'info' | 'warn' | 'error' | 'done'; title?: string; paragraphs: string[] };
}

const actorsOf = (status: TaskStatus) => [status.assignee.id, ...(status.delegate ? [status.delegate.id] : [])].filter(Boolean);
const isOpen = (status: TaskStatus) => status.state === 'open' || status.state === 'overdue';

/** Why the person sees the task read-only, or undefined when they may complete it. */
function readOnlyReasons(ctx: PageContext, view: TaskView): string[] | undefined {
  const { status, claims, running } = view;
  if (!isOpen(status)) return undefined;
  if (!running) return ['This task was stopped by an operator and can no longer be completed here.'];
  if (!status.assignee.id) return ['This task is still being set up. Reload this page in a moment.'];
  if (actorsOf(status).includes(claims.person)) return undefined;
  const holders = `${status.assignee.name}${status.delegate ? ` or ${status.delegate.name}` : ''}`;
  const escalated = status.history.some(
    (e) => e.type === 'escalated' && Array.isArray(e.data?.to) && (e.data.to as unknown[]).includes(claims.person),
  );
  return [
    escalated
      ? `This task was escalated to you because it is overdue. Only ${holders} can complete it; please follow up with them.`
      : `Only ${holders} can complete this task. This link was sent to ${personName(ctx, claims.person)} for information.`,
  ];
}

export function taskPageModel(ctx: PageContext, view: TaskView, now = new Date()): Record<string, unknown> {
  const { status, token } = view;
  const open = isOpen(status);
  const overdue = open && (status.state === 'overdue' || Date.parse(status.dueAt) < now.getTime());
  const readOnly = readOnlyReasons(ctx, view);
  const canAct = open && view.running && readOnly === undefined;
  const problems = view.problems ?? [];
  const notice =
    view.notice ??
    (status.state === 'completed' && status.completion
      ? { kind: 'done', paragraphs: [`This task was completed by ${personName(ctx, status.completion.by)} on ${timeText(status.completion.at)}.`] }
      : undefined);
  return {
    title: status.title,
    state: status.state,
    stateLabel: open ? 'Open' : status.state === 'completed' ? 'Completed' : 'Cancelled',
    stateClass: open ? 'open' : status.state === 'completed' ? 'done' : 'closed',
    dueAt: status.dueAt,
    dueText: dayText(status.dueAt),
    overdue,
    notice,
    assigneeName: status.assignee.name || 'not yet known',
    delegateName: status.delegate?.name,
    clauses: status.clauses.map(describeClause),
    process: status.process,
    aiSystem: status.aiSystem,
    requestedByName: personName(ctx, status.requestedBy),
    instructions: paragraphs(status.instructions),
    completion: status.completion
      ? {
          byName: personName(ctx, status.completion.by),
          at: status.completion.at,
          atText: timeText(status.completion.at),
          entries: completionEntries(status.completion.data),
        }
      : undefined,
    form: canAct
      ? {
          action: ctx.links.url(linkPaths['task.view'], token),
          csrf: csrfToken(ctx.config.LINK_SECRET, token),
          fields: taskFormFields(status.form, status.choices, view.values ?? {}, problems),
          errorSummary: errorSummary(problems),
        }
      : undefined,
    readOnly,
    history: status.history
      .slice(-HISTORY_SHOWN)
      .reverse()
      .map((e) => ({
        at: e.at,
        atText: timeText(e.at),
        detail: e.detail,
        byName: e.by === 'system' ? undefined : personName(ctx, e.by),
      })),
  };
}

async function loadTask(client: Client, workflowId: string): Promise<{ status: TaskStatus; running: boolean }> {
  const description = await describeWork(client, workflowId, TASK_WORKFLOW, 'task');
  const status = await client.workflow.getHandle(workflowId).query(taskStatusQuery);
  return { status, running: isRunning(description) };
}

/** The page for a task that was cancelled. */
function cancelledPage(ctx: PageContext, status: TaskStatus): PageError {
  const c = status.cancellation;
  return new PageError(410, {
    heading: 'This task was cancelled',
    paragraphs: [
      `“${status.title}” was cancelled${c ? ` on ${timeText(c.at)} by ${personName(ctx, c.by)}` : ''}. There is nothing more to do.`,
      ...(c ? [`Reason: ${c.reason}`] : []),
    ],
  });
}

function alreadyDonePage(ctx: PageContext, status: TaskStatus): PageError {
  const c = status.completion;
  return new PageError(409, {
    heading: 'This task is already done',
    paragraphs: [
      `“${status.title}” was completed${c ? ` by ${personName(ctx, c.by)} on ${timeText(c.at)}` : ''}. Your answer was not needed again, and nothing was changed.`,
    ],
  });
}

/** What the person typed, for pages that cannot keep it in the form. */
function enteredValues(values: Values): NonNullable<MessageModel['entered']> {
  return Object.entries(values)
    .map(([key, value]) => ({ label: completionLabels[key] ?? key, value: Array.isArray(value) ? value.join('\n') : value }))
    .filter((e) => e.value.trim() !== '');
}

async function renderTask(
  ctx: PageContext,
  request: FastifyRequest,
  reply: FastifyReply,
  statusCode: number,
  view: TaskView,
): Promise<FastifyReply> {
  return sendPage(ctx, request, reply, statusCode, 'task', taskPageModel(ctx, view), {
    pageTitle: view.status.title,
    myTasksUrl: await myTasksUrl(ctx, view.claims),
  });
}

/** For an expired link to a task that is already closed: say so instead of offering a fresh link. */
function closedWorkInsteadOfExpired(ctx: PageContext) {
  return async (claims: LinkClaims) => {
    if (!ctx.temporal) return;
    const { status } = await loadTask(ctx.temporal, claims.task);
    if (status.state === 'completed') throw alreadyDonePage(ctx, status);
    if (status.state === 'cancelled') throw cancelledPage(ctx, status);
  };
}

export function showTask(ctx: PageContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const token = tokenFrom(request);
    const claims = await verifyPageLink(ctx, token, 'task.view', closedWorkInsteadOfExpired(ctx));
    const client = requireTemporal(ctx);
    const { status, running } = await loadTask(client, claims.task);
    if (status.state === 'cancelled') throw cancelledPage(ctx, status);
    return renderTask(ctx, request, reply, 200, { status, running, claims, token: token ?? '' });
  };
}

export function submitTask(ctx: PageContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const token = tokenFrom(request);
    const body = formBody(request);
    const claims = await verifyPostedLink(
      () => verifyPageLink(ctx, token, 'task.view', closedWorkInsteadOfExpired(ctx)),
      enteredValues(Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'csrf' && k !== 'token'))),
    );
    requireSameSiteForm(ctx, request, token ?? '');
    const client = requireTemporal(ctx);
    const { status, running } = await loadTask(client, claims.task);
    if (status.state === 'completed') throw alreadyDonePage(ctx, status);
    if (status.state === 'cancelled') throw cancelledPage(ctx, status);

    const { data, values } = taskFormInput(status.form, body);
    const view: TaskView = { status, running, claims, token: token ?? '', values };
    const readOnly = readOnlyReasons(ctx, view);
    if (readOnly || !running) {
      return renderTask(ctx, request, reply, 403, {
        ...view,
        notice: { kind: 'error', title: 'Your answer was not saved', paragraphs: readOnly ?? ['This task can no longer be completed.'] },
      });
    }
    const form = validateForm(status.form, data, status.choices);
    if (!form.ok) {
      return renderTask(ctx, request, reply, 400, { ...view, problems: form.problems });
    }

    const handle = client.workflow.getHandle(claims.task);
    try {
      const ack = await handle.executeUpdate(completeTaskUpdate, { args: [{ by: claims.person, data: form.data }] });
      request.log.info({ workflowId: claims.task, person: claims.person }, 'task completed from its page');
      return sendMessage(
        ctx,
        request,
        reply,
        200,
        {
          heading: 'Thank you',
          paragraphs: [
            sentenceCase(ack.message.replace(/^thank you[:,.!]?\s*/i, '')),
            `Your answer to “${status.title}” is recorded as evidence. A receipt is on its way by e-mail.`,
          ],
          link: { url: await myTasksUrl(ctx, claims), label: 'See your other open tasks', secondary: true },
        },
        { pageTitle: 'Thank you' },
      );
    } catch (err) {
      if (!(err instanceof WorkflowUpdateFailedError) && !(err instanceof WorkflowNotFoundError)) throw err;
      const reason = err instanceof WorkflowUpdateFailedError ? (err.cause?.message ?? err.message) : 'the task is closed';
      request.log.info({ workflowId: claims.task, reason }, 'task completion refused by the workflow');
      const now = await loadTask(client, claims.task);
      if (now.status.state === 'completed') throw alreadyDonePage(ctx, now.status);
      if (now.status.state === 'cancelled') throw cancelledPage(ctx, now.status);
      return renderTask(ctx, request, reply, 409, {
        ...view,
        status: now.status,
        running: now.running,
        notice: { kind: 'error', title: 'Your answer was not saved', paragraphs: [`${sentenceCase(reason)}.`] },
      });
    }
  };
}
