/**
 * Rendering of the console: handlebars templates (every value HTML-escaped) inside the console
 * layout, which carries the role-aware navigation, who is signed in, and the CSRF value its
 * forms post back. Areas compile their templates once with `consoleView` and answer with
 * `sendConsole`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import Handlebars from 'handlebars';
import type { Permission } from '../auth/permissions.js';
import type { Organization } from '../organization/schema.js';
import { actorOf } from '../auth/permissions.js';
import { requestPermits } from '../api/plugins/admin-auth.js';
import { FIELD, STYLES } from '../api/views/templates.js';
import { csrfField } from './csrf.js';
import { CONSOLE_FIELD, CONSOLE_LAYOUT, CONSOLE_STYLES, FORM_REFUSED } from './templates.js';
import '../api/deps.js';

const hbs = Handlebars.create();
hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
hbs.registerHelper('json', (value: unknown) => JSON.stringify(value));
/** The id of a field: given, or its name with anything but letters, digits and dashes made a dash. */
export const fieldId = (name: string, id?: unknown) => (typeof id === 'string' && id ? id : `f-${String(name).replace(/[^A-Za-z0-9-]/g, '-')}`);
hbs.registerHelper('fieldId', (name: unknown, id: unknown) => fieldId(String(name), id));
hbs.registerPartial('field', FIELD);
hbs.registerPartial('consoleField', CONSOLE_FIELD);
hbs.registerPartial('formRefused', FORM_REFUSED);

export type ConsoleView = Handlebars.TemplateDelegate;

/** A console template, compiled once (call at module or plugin load, not per request). */
export function consoleView(source: string): ConsoleView {
  return hbs.compile(source, { preventIndent: true });
}

/** The sections of the navigation, in order; a section shows only to those who may open its page. */
export const SECTIONS = [
  { id: 'home', label: 'Home', href: '/console', permission: null },
  { id: 'calendar', label: 'Calendar', href: '/console/calendar', permission: null },
  { id: 'registers', label: 'Registers', href: '/console/registers', permission: 'corrective-action.read' },
  { id: 'plan', label: 'Plan and start', href: '/console/plan', permission: 'tasks.read' },
  { id: 'evidence', label: 'Evidence', href: '/console/evidence', permission: 'records.read' },
] as const satisfies ReadonlyArray<{ id: string; label: string; href: string; permission: Permission | null }>;

export type SectionId = (typeof SECTIONS)[number]['id'];

/** Whether the signed-in person (or key) may do what `permission` allows: for showing an action. */
export function can(request: FastifyRequest, permission: Permission): boolean {
  return requestPermits(request, permission);
}

/** The display name of the request's principal: the person's name from the organization file, or the key's name. */
export function principalName(request: FastifyRequest): string {
  const principal = request.principal;
  if (!principal) return '';
  if (principal.kind === 'person') {
    const person = organizationOf(request)?.people.find((p) => p.id === principal.id);
    if (person) return person.name;
  }
  return actorOf(principal);
}

/** The organization in force, or undefined when the API has none or it cannot be read right now. */
export function organizationOf(request: FastifyRequest): Organization | undefined {
  try {
    return request.server.deps.organization?.();
  } catch {
    return undefined;
  }
}

const siteName = (request: FastifyRequest): string => organizationOf(request)?.organization.name ?? 'aimsflow';

const layout = hbs.compile(CONSOLE_LAYOUT, { preventIndent: true });
const styles = new hbs.SafeString(`${STYLES}${CONSOLE_STYLES}`);

export interface ConsoleFrame {
  /** The `<title>` and nothing else (the page's own `<h1>` is in its template). */
  title: string;
  /** The navigation section the page belongs to (marked as the current one). */
  section?: SectionId | undefined;
  status?: number | undefined;
}

/** The complete HTML of a console page. */
export function renderConsole(request: FastifyRequest, view: ConsoleView, model: object, frame: ConsoleFrame): string {
  const signedIn = request.principal !== undefined;
  const csrf = signedIn ? csrfField(request) : '';
  const body = view({ ...model, csrf });
  return layout({
    title: frame.title,
    siteName: siteName(request),
    styles,
    body: new hbs.SafeString(body),
    requestId: request.id,
    signedIn,
    person: principalName(request),
    viaSession: request.principal?.via === 'session',
    nav: signedIn
      ? SECTIONS.filter((s) => s.permission === null || can(request, s.permission)).map((s) => ({ ...s, current: s.id === frame.section }))
      : [],
  });
}

/** Answers with a console page (no caching, no indexing). */
export function sendConsole(request: FastifyRequest, reply: FastifyReply, view: ConsoleView, model: object, frame: ConsoleFrame): FastifyReply {
  return reply
    .code(frame.status ?? 200)
    .header('cache-control', 'no-store')
    .header('x-robots-tag', 'noindex, nofollow')
    .type('text/html; charset=utf-8')
    .send(renderConsole(request, view, model, frame));
}
