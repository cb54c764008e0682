/**
 * Renders the pages: each page template inside the shared layout, with handlebars' HTML
 * escaping for every value.
 */
import Handlebars from 'handlebars';
import { APPROVAL_PAGE, CONCERN_PAGE, FIELD, LAYOUT, MESSAGE_PAGE, MY_TASKS_PAGE, STYLES, TASK_PAGE } from './templates.js';

const hbs = Handlebars.create();
hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
hbs.registerPartial('field', FIELD);

const compile = (source: string) => hbs.compile(source, { preventIndent: true });

const pages = {
  task: compile(TASK_PAGE),
  approval: compile(APPROVAL_PAGE),
  myTasks: compile(MY_TASKS_PAGE),
  message: compile(MESSAGE_PAGE),
  concern: compile(CONCERN_PAGE),
} as const;

export type PageName = keyof typeof pages;

const layout = compile(LAYOUT);

export interface LayoutModel {
  /** The `<title>` (the site name is appended). */
  pageTitle: string;
  /** The request id, shown small so a person can quote it. */
  requestId: string;
  /** A signed link to the person's open tasks, shown in the footer. */
  myTasksUrl?: string | undefined;
  /** The organization's name; defaults to `aimsflow`. */
  siteName?: string | undefined;
}

/** A complete HTML document for `page` rendered with `model`. */
export function renderPage(page: PageName, model: object, frame: LayoutModel): string {
  const body = pages[page](model);
  return layout({
    ...frame,
    siteName: frame.siteName ?? 'aimsflow',
    styles: new hbs.SafeString(STYLES),
    body: new hbs.SafeString(body),
  });
}
