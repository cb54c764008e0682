/**
 * The public "report a concern" page (Annex A.3.3), `GET /concern` and `POST /concern`: what
 * happened, optionally which AI system from the inventory, and optionally the reporter's name
 * and e-mail address. There is no link token, so the form carries a signed form token and the
 * POST is checked for it and for coming from this site. Bad input re-renders the form with a
 * message beside each field and every value kept; a report starts its triage workflow and the
 * page shows its reference.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { concernInputSchema } from './schema.js';
import { StartInputError } from '../temporal/start.js';
import { startConcern } from './start.js';
import { checkPublicFormPost, issueFormToken } from '../api/csrf.js';
import { field, formBody, pageGateway, PageError, sendMessage, sendPage, type PageContext } from '../api/pages/common.js';

export const CONCERN_PATH = '/concern';
const FORM_PURPOSE = 'concern';

const fieldsSchema = concernInputSchema.pick({ description: true, aiSystem: true, reporterName: true, reporterEmail: true });

/** The value of the `about` field for a concern about the AIMS manager. */
export const ABOUT_AIMS_MANAGER = 'aims-manager';

type Values = Record<'description' | 'aiSystem' | 'about' | 'reporterName' | 'reporterEmail', string>;
type Problems = Partial<Record<keyof Values, string>>;

const labels: Record<keyof Values, string> = {
  description: 'What happened',
  aiSystem: 'Which AI system',
  about: 'Is it about the AIMS manager?',
  reporterName: 'Your name',
  reporterEmail: 'Your e-mail address',
};

function organizationOf(ctx: PageContext) {
  try {
    return ctx.organization?.();
  } catch {
    return undefined;
  }
}

function pageModel(ctx: PageContext, values: Values, problems: Problems) {
  const org = organizationOf(ctx);
  const described = (id: string, hint: boolean, error?: string) =>
    [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const base = (name: keyof Values, hint: string) => {
    const id = `f-${name}`;
    const error = problems[name] ? `${labels[name]}: ${problems[name]}` : undefined;
    return { id, name, label: labels[name], hint, value: values[name], ...(error ? { error } : {}), describedBy: described(id, true, error) };
  };
  const systems = org?.aiSystems ?? [];
  const fields = [
    { ...base('description', 'Describe what you saw or experienced, when and where, and why it concerns you.'), kind: 'textarea', required: true },
    ...(systems.length
      ? [
          {
            ...base('aiSystem', 'Optional. Choose one if you know which system it was.'),
            kind: 'select',
            options: [
              { value: '', label: 'I do not know, or another system', checked: values.aiSystem === '' },
              ...systems.map((s) => ({ value: s.id, label: s.name, checked: values.aiSystem === s.id })),
            ],
          },
        ]
      : []),
    {
      ...base('about', 'Optional. If your concern is about the AIMS manager, top management handles it instead of them.'),
      kind: 'select',
      options: [
        { value: '', label: 'No, or I prefer not to say', checked: values.about !== ABOUT_AIMS_MANAGER },
        { value: ABOUT_AIMS_MANAGER, label: 'Yes: top management should handle it', checked: values.about === ABOUT_AIMS_MANAGER },
      ],
    },
    { ...base('reporterName', 'Optional.'), kind: 'input', type: 'text' },
    { ...base('reporterEmail', 'Optional. Only used to tell you the outcome if we do not take your report further.'), kind: 'input', type: 'email' },
  ];
  return {
    organizationName: org?.organization.name ?? 'the organization',
    action: `${ctx.config.PUBLIC_BASE_URL}${CONCERN_PATH}`,
    csrf: issueFormToken(ctx.config.LINK_SECRET, FORM_PURPOSE),
    fields,
    errorSummary: (Object.keys(problems) as Array<keyof Values>).map((name) => ({ id: `f-${name}`, text: `${labels[name]}: ${problems[name] ?? ''}` })),
  };
}

function renderForm(ctx: PageContext, request: FastifyRequest, reply: FastifyReply, statusCode: number, values: Values, problems: Problems) {
  return sendPage(ctx, request, reply, statusCode, 'concern', pageModel(ctx, values, problems), { pageTitle: 'Report a concern' });
}

const empty: Values = { description: '', aiSystem: '', about: '', reporterName: '', reporterEmail: '' };

export function showConcernForm(ctx: PageContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => renderForm(ctx, request, reply, 200, empty, {});
}

export function submitConcern(ctx: PageContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const body = formBody(request);
    const values: Values = {
      description: field(body, 'description'),
      aiSystem: field(body, 'aiSystem').trim(),
      about: field(body, 'about').trim(),
      reporterName: field(body, 'reporterName'),
      reporterEmail: field(body, 'reporterEmail').trim(),
    };
    const verdict = checkPublicFormPost(request, {
      secret: ctx.config.LINK_SECRET,
      publicBaseUrl: ctx.config.PUBLIC_BASE_URL,
      purpose: FORM_PURPOSE,
      presented: body.csrf,
    });
    if (!verdict.ok) {
      throw new PageError(403, {
        heading: 'This form cannot be accepted',
        paragraphs: [verdict.reason, 'Nothing was sent. Please open the form again and send your report from there.'],
        entered: (Object.keys(labels) as Array<keyof Values>).map((k) => ({ label: labels[k], value: values[k] })).filter((e) => e.value.trim() !== ''),
      });
    }

    const { about, ...fields } = values;
    const input = Object.fromEntries(Object.entries(fields).filter(([, v]) => v.trim() !== ''));
    const problems: Problems = {};
    const parsed = fieldsSchema.safeParse(input);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const name = issue.path[0] as keyof Values;
        problems[name] ??= issue.message;
      }
    }
    const org = organizationOf(ctx);
    if (values.aiSystem && org && !org.aiSystems.some((s) => s.id === values.aiSystem)) problems.aiSystem ??= 'is not one of the listed systems';
    if (about && about !== ABOUT_AIMS_MANAGER) problems.about = 'is not one of the listed answers';
    if (!parsed.success || Object.keys(problems).length) return renderForm(ctx, request, reply, 400, values, problems);

    const client = pageGateway(ctx).client;
    let handle;
    try {
      handle = await startConcern(client, ctx.config.TEMPORAL_TASK_QUEUE, { ...parsed.data, ...(about === ABOUT_AIMS_MANAGER ? { aboutAimsManager: true } : {}), reportedAt: new Date().toISOString() }, { ...(org ? { organization: org } : {}), publicBaseUrl: ctx.config.PUBLIC_BASE_URL });
    } catch (err) {
      if (!(err instanceof StartInputError)) throw err;
      for (const issue of err.issues) problems[(issue.path in labels ? issue.path : 'description') as keyof Values] ??= issue.message;
      return renderForm(ctx, request, reply, 400, values, problems);
    }
    request.log.info({ workflowId: handle.workflowId, anonymous: !values.reporterName && !values.reporterEmail }, 'concern reported');
    return sendMessage(ctx, request, reply, 200, {
      heading: 'Thank you for your report',
      paragraphs: [
        `Your report was received. Its reference is ${handle.workflowId}; quote it if you contact us about it.`,
        values.reporterEmail
          ? 'The AIMS manager will review it. If we do not take it further, we will tell you why at the e-mail address you gave.'
          : 'The AIMS manager will review it.',
      ],
    });
  };
}
