/**
 * The personal iCalendar feed: `GET /calendar/<token>.ics`, public (calendar applications cannot
 * sign in): the token is the credential, checked against the feed the ledger has in force for
 * its person (src/calendar/feed.ts). Rate limited like the link pages: per person for a token
 * that checks out, per client address for one that does not.
 *
 * Answers: 200 `text/calendar`; 404 for an address that is not a feed (forged, altered, cut);
 * 410 for a feed that was revoked or replaced, or whose person left the organization, saying
 * which and where to get a new one; 503 with Retry-After when Temporal does not answer in time.
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError, sendError } from '../api/errors.js';
import { linkRateLimit } from '../api/plugins/rate-limit.js';
import { permits, personRoles } from '../auth/permissions.js';
import { calendarItems, visibleKinds } from './items.js';
import { feedCalendar, feedTokens, readFeedState, tokenOfFile, FEED_PATH_PREFIX } from './feed.js';
import { readCalendar, VisibilityTimeout } from './sources.js';
import { calendarItemUrl } from './links.js';
import '../api/deps.js';

const NOT_A_FEED = 'There is no calendar feed at this address. Open the address exactly as the console showed it, or issue a new one at /console/calendar/feed.';

export const calendarFeedRoutes: FastifyPluginCallback = (app, _options, done) => {
  const { config } = app.deps;
  const tokens = feedTokens(config.LINK_SECRET);
  const proven = new WeakMap<FastifyRequest, { person: string; feedId: string }>();
  const { guard } = linkRateLimit(app, { perPerson: config.LINK_LIMIT_PER_PERSON, failuresPerAddress: config.LINK_FAILURE_LIMIT_PER_ADDRESS });
  const prove = async (request: FastifyRequest): Promise<string | undefined> => {
    const file = (request.params as { file?: unknown }).file;
    const token = typeof file === 'string' ? tokenOfFile(file) : undefined;
    const claims = token ? await tokens.verify(token) : undefined;
    if (claims) proven.set(request, claims);
    return claims?.person;
  };

  app.get(`${FEED_PATH_PREFIX}:file`, { preHandler: guard(prove), schema: { hide: true } }, async (request: FastifyRequest, reply: FastifyReply) => {
    const claims = proven.get(request);
    if (!claims) throw new HttpError(404, NOT_A_FEED);
    const state = await readFeedState(app.deps.records, claims.person);
    const feedPage = `${config.PUBLIC_BASE_URL.replace(/\/+$/, '')}/console/calendar/feed`;
    if (state.active?.feedId !== claims.feedId) {
      const ended = state.history.get(claims.feedId)?.ended;
      if (!ended) throw new HttpError(404, NOT_A_FEED);
      const how = ended.how === 'revoked' ? `was revoked on ${ended.at.slice(0, 10)} by ${ended.by}` : `was replaced by a newer address on ${ended.at.slice(0, 10)}`;
      throw new HttpError(410, `This calendar feed ${how} and no longer works. Its owner can issue a new address at ${feedPage}.`);
    }
    const organization = app.deps.organization?.();
    const person = organization?.people.find((p) => p.id === claims.person);
    if (!organization || !person) throw new HttpError(410, 'This calendar feed belonged to someone who is no longer in the organization.');
    const client = app.deps.temporal;
    if (!client) return sendError(request, reply.header('retry-after', '30'), 503, 'The calendar cannot be read: Temporal is not configured.');
    const roles = personRoles(organization, claims.person);
    const kinds = visibleKinds((permission) => permits(roles, permission));
    let read;
    try {
      read = await readCalendar(
        { client, taskQueue: config.TEMPORAL_TASK_QUEUE, records: app.deps.records, listTimeoutMs: config.CONSOLE_LIST_TIMEOUT_MS, queryTimeoutMs: config.PAGE_QUERY_TIMEOUT_MS },
        claims.person,
        kinds,
      );
    } catch (err) {
      if (!(err instanceof VisibilityTimeout)) throw err;
      request.log.warn({ err }, 'calendar feed: Temporal did not answer in time');
      return sendError(request, reply.header('retry-after', '60'), 503, `${err.message}; try again in a minute.`);
    }
    const timeZone = organization.organization.timezone;
    const now = new Date();
    const items = calendarItems(read.sources, { timeZone, now, kinds });
    const text = feedCalendar(items, {
      name: `${organization.organization.name}: ${person.name}`,
      host: new URL(config.PUBLIC_BASE_URL).hostname,
      urlOf: (item) => calendarItemUrl(config, item),
      now,
    });
    return reply
      .header('cache-control', 'no-store')
      .header('content-disposition', 'inline; filename="aimsflow.ics"')
      .type('text/calendar; charset=utf-8')
      .send(text);
  });
  done();
};
