/**
 * Each person's iCalendar subscription feed: a signed, revocable address
 * (`/calendar/<token>.ics`) that calendar applications poll without signing in.
 *
 * The token is an HS256 JWT naming the person and the feed's id, signed with a key derived from
 * LINK_SECRET for this use only (a link token is never a feed token, nor the reverse). It has no
 * expiry: the feed in force is the one the records store names. Issuing and revoking are ledger
 * records under `calendar-feed/<person>` (`calendar-feed.issued`, `calendar-feed.revoked`), the
 * latest one wins, so a revocation holds across restarts and on every API replica, and the
 * evidence shows who issued and who revoked a feed. The same person and feed id always give the
 * same token, so the console can show the address again without storing it.
 */
import { createHmac, randomBytes } from 'node:crypto';
import ical, { ICalCalendarMethod } from 'ical-generator';
import { jwtVerify, SignJWT } from 'jose';
import type { EvidenceRecord, RecordsStore } from '../records/types.js';
import { kindLabels, type CalendarItem } from './items.js';

export const FEED_SUBJECT_PREFIX = 'calendar-feed/';
export const FEED_ISSUED = 'calendar-feed.issued';
export const FEED_REVOKED = 'calendar-feed.revoked';
/** Communication (7.4): when and to whom the management system's dates are communicated. */
export const FEED_CLAUSES = ['7.4'];
/** Where a feed is served: `${FEED_PATH_PREFIX}<token>.ics`. */
export const FEED_PATH_PREFIX = '/calendar/';

const ISSUER = 'aimsflow';
const AUDIENCE = 'calendar.feed';
const MAX_TOKEN_LENGTH = 1024;
const FEED_ID = /^[A-Za-z0-9_-]{16,64}$/;

export const feedSubject = (person: string): string => `${FEED_SUBJECT_PREFIX}${person}`;

export interface FeedTokens {
  sign(person: string, feedId: string): Promise<string>;
  /** The person and feed a token names, or undefined when it is not a feed token signed here. */
  verify(token: string): Promise<{ person: string; feedId: string } | undefined>;
}

export function feedTokens(linkSecret: string): FeedTokens {
  // A key of its own, derived from the link secret: feed and link tokens cannot stand in for each other.
  const key = createHmac('sha256', linkSecret).update('aimsflow calendar feed v1').digest();
  return {
    sign: (person, feedId) => new SignJWT({ fid: feedId }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject(person).sign(key),
    async verify(token) {
      if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, requiredClaims: ['sub'] });
        const feedId = payload.fid;
        if (typeof payload.sub !== 'string' || typeof feedId !== 'string' || !FEED_ID.test(feedId)) return undefined;
        return { person: payload.sub, feedId };
      } catch {
        return undefined;
      }
    },
  };
}

/** The token of a feed address (`<token>.ics`), or undefined when the name is not one. */
export function tokenOfFile(file: string): string | undefined {
  return file.endsWith('.ics') && file.length > 4 ? file.slice(0, -4) : undefined;
}

export interface FeedEvent {
  feedId: string;
  at: string;
  by: string;
}

/** A person's feed as the ledger has it: the one in force, and the last one that ended. */
export interface FeedState {
  active?: FeedEvent;
  /** The feed that ended last (revoked, or replaced by a newer one), and how. */
  ended?: FeedEvent & { how: 'revoked' | 'replaced' };
  /** Every feed id ever issued to the person, with how it ended (for refusing an old address clearly). */
  history: Map<string, { issued: FeedEvent; ended?: FeedEvent & { how: 'revoked' | 'replaced' } }>;
}

interface FeedContent {
  feedId?: unknown;
}

/** The person's feed from the ledger, latest record winning. */
export async function readFeedState(records: Pick<RecordsStore, 'list'>, person: string): Promise<FeedState> {
  const all: EvidenceRecord[] = [];
  for (let afterSeq = 0; ; ) {
    const page = await records.list({ subject: feedSubject(person), afterSeq, limit: 1000 });
    all.push(...page);
    const last = page.at(-1);
    if (!last || page.length < 1000) break;
    afterSeq = last.seq;
  }
  const state: FeedState = { history: new Map() };
  for (const record of all) {
    const feedId = (record.content as FeedContent | null)?.feedId;
    if (typeof feedId !== 'string') continue;
    const event = { feedId, at: record.occurredAt, by: record.actor };
    if (record.kind === FEED_ISSUED) {
      if (state.active) {
        const replaced = { ...state.active, at: record.occurredAt, by: record.actor, how: 'replaced' as const };
        state.ended = replaced;
        const entry = state.history.get(state.active.feedId);
        if (entry) entry.ended = replaced;
      }
      state.active = event;
      state.history.set(feedId, { issued: event });
    } else if (record.kind === FEED_REVOKED && state.active?.feedId === feedId) {
      const revoked = { ...event, how: 'revoked' as const };
      state.ended = revoked;
      const entry = state.history.get(feedId);
      if (entry) entry.ended = revoked;
      delete state.active;
    }
  }
  return state;
}

/** Issues a new feed for `person` (the one before stops working), recorded as `actor`. */
export async function issueFeed(records: Pick<RecordsStore, 'append'>, person: string, actor: string, now = new Date()): Promise<FeedEvent> {
  const feedId = randomBytes(16).toString('base64url');
  const at = now.toISOString();
  await records.append({
    id: `${feedSubject(person)}/${feedId}/issued`,
    kind: FEED_ISSUED,
    subject: feedSubject(person),
    clauses: FEED_CLAUSES,
    actor,
    occurredAt: at,
    content: { person, feedId },
  });
  return { feedId, at, by: actor };
}

/** Revokes the person's feed in force; undefined when none is. */
export async function revokeFeed(records: Pick<RecordsStore, 'append' | 'list'>, person: string, actor: string, now = new Date()): Promise<FeedEvent | undefined> {
  const { active } = await readFeedState(records, person);
  if (!active) return undefined;
  const at = now.toISOString();
  await records.append({
    id: `${feedSubject(person)}/${active.feedId}/revoked`,
    kind: FEED_REVOKED,
    subject: feedSubject(person),
    clauses: FEED_CLAUSES,
    actor,
    occurredAt: at,
    content: { person, feedId: active.feedId },
  });
  return { feedId: active.feedId, at, by: actor };
}

export interface FeedCalendarOptions {
  /** Shown as the calendar's name. */
  name: string;
  /** The host UIDs are qualified with, e.g. `aims.example.com`. */
  host: string;
  /** Each event's URL back to the console or the workflow. */
  urlOf: (item: CalendarItem) => string | undefined;
  now: Date;
}

const DAY_MS = 86_400_000;

/** The feed's iCalendar text: one VEVENT per item, with a stable UID and DTSTAMP. */
export function feedCalendar(items: readonly CalendarItem[], options: FeedCalendarOptions): string {
  const calendar = ical({
    name: options.name,
    prodId: { company: 'aimsflow', product: 'calendar feed', language: 'EN' },
    method: ICalCalendarMethod.PUBLISH,
    // Calendar applications that honour it poll every hour.
    ttl: 3600,
  });
  for (const item of items) {
    const url = options.urlOf(item);
    calendar.createEvent({
      id: `${item.uid}@${options.host}`,
      summary: item.title,
      description: `${kindLabels[item.kind]}${item.overdue ? ' (overdue)' : ''}: ${item.detail}${url ? `\n${url}` : ''}`,
      ...(url ? { url } : {}),
      allDay: item.allDay,
      start: item.allDay ? new Date(`${item.start}T00:00:00Z`) : new Date(item.start),
      // An all-day event's DTEND is the day after its last day; a due time is a moment.
      end: item.allDay ? new Date(Date.parse(`${item.end}T00:00:00Z`) + DAY_MS) : new Date(item.start),
      timezone: item.allDay ? null : 'UTC',
      stamp: options.now,
    });
  }
  return calendar.toString();
}
