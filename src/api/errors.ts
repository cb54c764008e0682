/**
 * One way to fail: every error, validation failure and unknown route leaves the API as
 * `{ error, message, requestId }` (plus `issues` for bad input), or as a small HTML page
 * when a browser asks for a page. 4xx messages are shown as thrown; 5xx details are logged
 * and never sent.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { redactUrl } from './logging.js';

export const INTERNAL_ERROR_MESSAGE = 'Something went wrong; quote the request id when reporting it.';

/** An error with an HTTP status; its message is shown to the client when the status is 4xx. */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  /** Failing fields, sent as `issues` with a 4xx response. */
  readonly issues: ValidationIssue[] | undefined;

  constructor(
    statusCode: number,
    message: string,
    options: { headers?: Record<string, string>; issues?: ValidationIssue[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.headers = options.headers ?? {};
    this.issues = options.issues;
  }
}

export interface ValidationIssue {
  /** Dotted path of the failing field, e.g. `limit` or `evidence.0.url`. */
  path: string;
  message: string;
}

export const validationIssueSchema = z.object({
  path: z.string().describe('Dotted path of the failing field'),
  message: z.string(),
});

export const errorResponseSchema = z
  .object({
    error: z.string().describe('HTTP status text'),
    message: z.string(),
    requestId: z.string().describe('Quote it when reporting a problem; also in the x-request-id header'),
    issues: z.array(validationIssueSchema).optional().describe('One entry per failing field (400 only)'),
  })
  .describe('Error');

export type ErrorResponse = z.output<typeof errorResponseSchema>;

/** Standard error responses to spread into a route's `response` schema for the OpenAPI document. */
export const errorResponses = {
  400: errorResponseSchema.describe('Bad input; `issues` names every failing field'),
  500: errorResponseSchema.describe('Internal error; details are logged under the request id'),
} as const;

export function statusText(statusCode: number): string {
  return STATUS_CODES[statusCode] ?? 'Error';
}

export function errorBody(statusCode: number, message: string, requestId: string, issues?: ValidationIssue[]): ErrorResponse {
  return { error: statusText(statusCode), message, requestId, ...(issues ? { issues } : {}) };
}

/** Paths that always answer JSON, whatever the Accept header says. */
const API_PATH_PREFIXES = ['/admin', '/healthz', '/readyz', '/metrics', '/openapi.json', '/docs'];

/** True when the client is a browser asking for a page rather than an API client. */
export function prefersHtml(request: FastifyRequest): boolean {
  const path = request.url.split('?', 1)[0] ?? '/';
  if (API_PATH_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`))) return false;
  const accept = request.headers.accept;
  return typeof accept === 'string' && /(^|[\s,])text\/html\s*(;|,|$)/i.test(accept);
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A minimal self-contained error page (inline styles only, no scripts). */
export function renderErrorPage(statusCode: number, message: string, requestId: string): string {
  const title = `${statusCode} ${statusText(statusCode)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · aimsflow</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}.id{color:#666;font-size:.85rem}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
<p class="id">Request id: <code>${escapeHtml(requestId)}</code></p>
</body>
</html>
`;
}

/** Sends an error in the form the client asked for (HTML page or JSON body). */
export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  statusCode: number,
  message: string,
  issues?: ValidationIssue[],
): FastifyReply {
  reply.code(statusCode);
  if (prefersHtml(request)) {
    return reply.type('text/html; charset=utf-8').send(renderErrorPage(statusCode, message, request.id));
  }
  return reply.type('application/json; charset=utf-8').send(errorBody(statusCode, message, request.id, issues));
}

interface ValidationEntry {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function dotted(instancePath: string | undefined): string {
  return (instancePath ?? '')
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

/**
 * Turns Fastify validation entries (zod issues from the type provider, or Ajv errors) into
 * one `{ path, message }` per failing field. `context` is `querystring`, `body`, `params`
 * or `headers`, used as the path when the whole part is wrong.
 */
export function validationIssues(entries: readonly ValidationEntry[], context: string | undefined): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const entry of entries) {
    const base = dotted(entry.instancePath);
    const message = entry.message ?? 'is invalid';
    const params = entry.params ?? {};
    if (entry.keyword === 'unrecognized_keys' && Array.isArray(params.keys)) {
      for (const key of params.keys) {
        issues.push({ path: base ? `${base}.${String(key)}` : String(key), message: 'is not a recognized field' });
      }
      continue;
    }
    if (entry.keyword === 'required' && typeof params.missingProperty === 'string') {
      issues.push({ path: base ? `${base}.${params.missingProperty}` : params.missingProperty, message: 'is required' });
      continue;
    }
    issues.push({ path: base || context || '(request)', message });
  }
  return issues;
}

function isValidationError(error: FastifyError): error is FastifyError & { validation: ValidationEntry[] } {
  return Array.isArray(error.validation) && error.validation.length > 0;
}

function validHttpStatus(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 599 ? value : undefined;
}

/** The application's error handler (installed once on the root instance). */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isValidationError(error)) {
    const context = error.validationContext;
    const issues = validationIssues(error.validation, context);
    const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    request.log.info({ issues }, 'rejected invalid request');
    return sendError(request, reply, 400, `Invalid ${context ?? 'request'}: ${summary}`, issues);
  }

  const statusCode = validHttpStatus(error.statusCode) ?? validHttpStatus((error as { status?: unknown }).status) ?? 500;
  if (statusCode >= 500) {
    request.log.error({ err: error }, 'request failed');
    return sendError(request, reply, statusCode, INTERNAL_ERROR_MESSAGE);
  }

  const headers = (error as { headers?: unknown }).headers;
  if (headers && typeof headers === 'object') {
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value === 'string' || typeof value === 'number') reply.header(name, value);
    }
  }
  request.log.info({ statusCode, code: error.code, reason: error.message }, 'request rejected');
  const issues = error instanceof HttpError ? error.issues : undefined;
  return sendError(request, reply, statusCode, error.message || statusText(statusCode), issues);
}

/** Unknown routes: JSON for API clients, a small page for browsers. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = redactUrl(request.url.split('?', 1)[0] ?? '/');
  return sendError(request, reply, 404, `No route for ${request.method} ${path}`);
}

/**
 * Errors raised by the router before a route is chosen (malformed URL, over-long path
 * parameter): answered without echoing the URL, which may carry a token.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const statusCode = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : validHttpStatus(error.statusCode) ?? 400;
  const message =
    statusCode === 414 ? 'The link is too long.' : statusCode >= 500 ? INTERNAL_ERROR_MESSAGE : 'The request URL is malformed.';
  reply.header('x-request-id', request.id);
  if (statusCode >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ statusCode, code: error.code }, 'request rejected');
  sendError(request, reply, statusCode, message);
}
