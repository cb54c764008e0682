/**
 * The pages people open from e-mailed links, registered on the public API (no API key: the
 * signed token in the link is the credential). Every route is rate limited per client IP.
 *
 *   GET  /t?token=    the task page           POST /t?token=   complete the task
 *   GET  /a?token=    the approval page       POST /a?token=   approve or reject
 *   GET  /me?token=   my open tasks           POST /renew      e-mail a fresh link for an expired one
 *   GET  /concern     report a concern        POST /concern    send the report (Annex A.3.3)
 */
import type { FastifyPluginCallback } from 'fastify';
import { linkPaths } from '../../links/paths.js';
import { publicRateLimit } from '../plugins/rate-limit.js';
import { showApproval, submitApproval } from '../../approval/page.js';
import { pageContext, pageHandler } from './common.js';
import { CONCERN_PATH, showConcernForm, submitConcern } from '../../concern/page.js';
import { showMyTasks } from './my-tasks.js';
import { renewLink } from './renew.js';
import { showTask, submitTask } from '../../task/page.js';
import '../deps.js';

export const pageRoutes: FastifyPluginCallback = (app, _options, done) => {
  const ctx = pageContext(app);
  const options = { config: publicRateLimit(), schema: { hide: true } };

  app.get(linkPaths['task.view'], options, pageHandler(ctx, showTask(ctx)));
  app.post(linkPaths['task.view'], options, pageHandler(ctx, submitTask(ctx)));
  app.get(linkPaths['approval.decide'], options, pageHandler(ctx, showApproval(ctx)));
  app.post(linkPaths['approval.decide'], options, pageHandler(ctx, submitApproval(ctx)));
  app.get(linkPaths['tasks.mine'], options, pageHandler(ctx, showMyTasks(ctx)));
  app.post(linkPaths['link.renew'], options, pageHandler(ctx, renewLink(ctx)));
  app.get(CONCERN_PATH, options, pageHandler(ctx, showConcernForm(ctx)));
  app.post(CONCERN_PATH, options, pageHandler(ctx, submitConcern(ctx)));
  done();
};
