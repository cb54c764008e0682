/**
 * Text the records store cannot keep: PostgreSQL refuses a NUL character (U+0000) in text and
 * JSON, so the ledger would refuse a record carrying one, and the workflow writing that record
 * would fail. A NUL anywhere in a request's path parameters, query or body (values and keys)
 * is refused with a 400 naming each field, before any route sees it: no workflow and no page
 * ever receives one.
 */
import type { FastifyInstance } from 'fastify';
import { HttpError, type ValidationIssue } from '../errors.js';

const NUL = '\u0000';
const MESSAGE = 'must not contain NUL characters (U+0000)';
/** Enough to name the fields of any request; a body made of NULs is not worth more. */
const MAX_ISSUES = 20;

/** Where a value sits: its key and its parent's place (a path built only for a value that is reported). */
interface Place {
  key: string;
  parent: Place | undefined;
}

function dotted(place: Place | undefined): string {
  const keys: string[] = [];
  for (let p = place; p; p = p.parent) keys.push(p.key);
  return keys.reverse().join('.');
}

/** The dotted paths of the strings (and keys) in `value` that contain a NUL, walked without recursion. */
export function nulPaths(value: unknown, max = MAX_ISSUES): string[] {
  const found: string[] = [];
  const pending: Array<{ value: unknown; place: Place | undefined }> = [{ value, place: undefined }];
  while (pending.length > 0 && found.length < max) {
    const { value: current, place } = pending.pop()!;
    if (typeof current === 'string') {
      if (current.includes(NUL)) found.push(dotted(place));
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) pending.push({ value: current[i], place: { key: String(i), parent: place } });
    } else if (current !== null && typeof current === 'object') {
      const entries = Object.entries(current as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        const at: Place = { key: key.replaceAll(NUL, '\\u0000'), parent: place };
        if (key.includes(NUL)) found.push(dotted(at));
        else pending.push({ value: child, place: at });
      }
    }
  }
  return found;
}

/** Refuses requests carrying a NUL; register before any route. */
export function registerInputGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const parts = [
      ['params', request.params],
      ['querystring', request.query],
      ['body', request.body],
    ] as const;
    for (const [part, value] of parts) {
      const paths = nulPaths(value);
      if (paths.length === 0) continue;
      const issues: ValidationIssue[] = paths.map((p) => ({ path: p || part, message: MESSAGE }));
      throw new HttpError(400, `Invalid ${part}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
    }
  });
}
