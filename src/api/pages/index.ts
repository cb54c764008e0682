/**
 * The pages people open from e-mailed links, registered on the public API (no API key: the
 * signed token in the link is the credential). Link routes are rate limited by what their link
 * proves (the person of a valid link; the client address for links that fail the check), the
 * concern form per client address (src/api/plugins/rate-limit.ts).
 *
 *   GET  /t?token=    the task page           POST /t?token=   complete the task
 *   GET  /a?token=    the approval page       POST /a?token=   approve or reject
 *   GET  /me?token=   my open tasks           POST /renew      e-mail a fresh link for an expired one
 *   GET  /concern     report a concern        POST /concern    send the report (Annex A.3.3)
 */
import type { FastifyPluginCallback } from 'fastify';
import { linkPaths } from '../../links/paths.js';
import type { LinkAction } from '../../links/claims.js';
import { linkRateLimit, publicRateLimit } from '../plugins/rate-limit.js';
import { showApproval, submitApproval } from '../../approval/page.js';
import { checkLink, pageContext, pageHandler, provenPerson } from './common.js';
import { CONCERN_PATH, showConcernForm, submitConcern } from '../../concern/page.js';
import { showMyTasks } from './my-tasks.js';
import { renewLink } from './renew.js';
import { showTask, submitTask } from '../../task/page.js';
import '../deps.js';

export const pageRoutes: FastifyPluginCallback = (app, _options, done) => {
  const ctx = pageContext(app);
  const { LINK_LIMIT_PER_PERSON, LINK_FAILURE_LIMIT_PER_ADDRESS } = ctx.config;
  const { guard } = linkRateLimit(app, { perPerson: LINK_LIMIT_PER_PERSON, failuresPerAddress: LINK_FAILURE_LIMIT_PER_ADDRESS });
  /** Route options of a page whose link is for `action`: limited by what its link proves. */
  const linkPage = (action: LinkAction) => ({
    preHandler: guard(async (request) => provenPerson(await checkLink(ctx, request, action))),
    schema: { hide: true },
  });
  // An expired link is what /renew is for, and its signature still names the person.
  const renewPage = {
    preHandler: guard(async (request) => provenPerson(await checkLink(ctx, request), { expired: true })),
    schema: { hide: true },
  };
  const formPage = { config: publicRateLimit(), schema: { hide: true } };

  app.get(linkPaths['task.view'], linkPage('task.view'), pageHandler(ctx, showTask(ctx)));
  app.post(linkPaths['task.view'], linkPage('task.view'), pageHandler(ctx, submitTask(ctx)));
  app.get(linkPaths['approval.decide'], linkPage('approval.decide'), pageHandler(ctx, showApproval(ctx)));
  app.post(linkPaths['approval.decide'], linkPage('approval.decide'), pageHandler(ctx, submitApproval(ctx)));
  app.get(linkPaths['tasks.mine'], linkPage('tasks.mine'), pageHandler(ctx, showMyTasks(ctx)));
  app.post(linkPaths['link.renew'], renewPage, pageHandler(ctx, renewLink(ctx)));
  app.get(CONCERN_PATH, formPage, pageHandler(ctx, showConcernForm(ctx)));
  app.post(CONCERN_PATH, formPage, pageHandler(ctx, submitConcern(ctx)));
  done();
};
