/**
 * The AIMS console under `/console`: server-rendered pages for the people who run the
 * management system (the AIMS manager, top management, auditors, admins), behind sign-in and
 * the permission module (./guard.ts), with htmx for live checks in forms that work without it.
 *
 * Each area is a plugin registered below with paths relative to `/console`. Pages that belong
 * to one process live in that process's folder (`src/<process>/console.ts`); the home page,
 * calendar and evidence live here.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyPluginAsync, FastifyPluginCallback } from 'fastify';
import { pageContext, type PageContext } from '../api/pages/common.js';
import { homePages } from './home.js';
import { calendarPages } from './calendar.js';
import { planIndex } from './plan.js';
import { internalAuditConsole } from '../internal-audit/console.js';
import { managementReviewConsole } from '../management-review/console.js';
import { certificationConsole } from '../certification/console.js';
import { aiSystemChangeForm } from '../ai-system/change-form.js';
import { schedulesConsole } from '../schedules/console.js';
import { nonconformityPages } from '../corrective-action/console.js';
import { evidencePages } from './evidence.js';
import { registerIndexPages } from './register.js';
import { objectivePages } from '../objectives/console.js';
import { aiSystemPages } from '../ai-system/console.js';
import { riskPages } from '../risk/console.js';
import { soaPages } from '../soa/console.js';
import { concernPages } from '../concern/console.js';
import '../api/deps.js';

/** The console's areas, each given the page context. */
const AREAS: ReadonlyArray<(ctx: PageContext) => FastifyPluginCallback> = [
  homePages,
  calendarPages,
  planIndex,
  internalAuditConsole,
  managementReviewConsole,
  certificationConsole,
  aiSystemChangeForm,
  schedulesConsole,
  registerIndexPages,
  nonconformityPages,
  evidencePages,
  objectivePages,
  aiSystemPages,
  riskPages,
  soaPages,
  concernPages,
];

const htmxSource = readFileSync(createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js'));

export const consoleRoutes: FastifyPluginAsync = async (app) => {
  const ctx = pageContext(app);
  app.get('/assets/htmx.min.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=86400').type('text/javascript; charset=utf-8').send(htmxSource),
  );
  for (const area of AREAS) await app.register(area(ctx));
};
