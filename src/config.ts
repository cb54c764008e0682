/**
 * Process configuration: one zod schema over the environment, parsed once and frozen.
 *
 * Secrets (LINK_SECRET, SESSION_SECRET) and the API keys (API_KEYS, by hash) have no defaults. `npm start` generates development
 * secrets once and keeps them in the data directory (see scripts/dev-secrets.ts). The payload keys
 * (PAYLOAD_KEYS) are required in production; elsewhere, unset, the public development key stands in.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { apiKeysSchema, readApiKeysSource } from './auth/api-keys.js';
import { DEFAULT_TASK_QUEUE } from './temporal/search-attributes.js';
import { parseDuration } from './common/duration.js';
import { DEVELOPMENT_KEY_ID, DEVELOPMENT_PAYLOAD_KEYS, parsePayloadKeys } from './temporal/codec.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `host:port`, the host a name, an IPv4 address or a bracketed IPv6 address. */
const HOST_PORT = /^([^\s:[\]]+|\[[0-9a-fA-F:]+\]):\d{1,5}$/;

const port = z.coerce.number().int().min(1).max(65535);

/** Named address ranges Fastify (proxy-addr) accepts in a trusted-proxy list. */
const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/** An address, an address/prefix (CIDR) or a named range, as a trusted-proxy list entry. */
function isProxyEntry(entry: string): boolean {
  if (PROXY_RANGES.includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** The most reverse proxies anyone puts in front of the API; a larger count is a typo. */
const MAX_PROXY_HOPS = 32;

/**
 * Which reverse proxies the API believes about the client's address (X-Forwarded-For), the
 * address its rate limits count: off (unset, empty, `false` or `0`), a number of hops (believed
 * when the direct peer is on a loopback or private address; see src/api/trust-proxy.ts), `true`
 * (every hop: a client reaching the API directly then chooses its own address), or a
 * comma-separated list of proxy addresses, CIDR ranges and `loopback`, `linklocal`, `uniquelocal`.
 */
const trustProxy = z
  .string()
  .trim()
  .default('')
  .transform((value, ctx): boolean | number | readonly string[] => {
    if (value === '' || value === 'false') return false;
    if (value === 'true') return true;
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      if (hops <= MAX_PROXY_HOPS) return hops === 0 ? false : hops;
      ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_PROXY_HOPS} proxy hops, got ${value}` });
      return z.NEVER;
    }
    const entries = value.split(',').map((e) => e.trim());
    const bad = entries.filter((e) => !isProxyEntry(e));
    if (bad.length === 0) return Object.freeze(entries);
    ctx.addIssue({
      code: 'custom',
      message: `must be true, a number of proxy hops, or a comma-separated list of proxy addresses or CIDR ranges (e.g. 10.0.0.0/8, loopback); not understood: ${bad.map((e) => JSON.stringify(e)).join(', ')}`,
    });
    return z.NEVER;
  });

/** True for an http(s) URL on localhost or a loopback address (a local provider in development). */
function isLoopbackUrl(value: string): boolean {
  try {
    const { hostname } = new URL(value);
    return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
  } catch {
    return false;
  }
}

/** An optional variable: empty counts as unset. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), schema.optional());

/** The worker's workflow cache budget by default (MB): about 128 cached workflows. */
export const WORKER_CACHE_MEMORY_MB_DEFAULT = 64;

const url = (protocols: string[]) =>
  z.url({ protocol: new RegExp(`^(${protocols.join('|')})$`) });

export const configSchema = z.object({
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'must be host:port, e.g. localhost:7233')
    .default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  SMTP_URL: url(['smtp', 'smtps']).default('smtp://localhost:1025'),
  MAIL_FROM: z.string().min(3).default('aimsflow <aimsflow@localhost>'),
  PUBLIC_BASE_URL: url(['http', 'https'])
    .default('http://localhost:3000')
    .transform((u) => u.replace(/\/+$/, '')),
  LINK_SECRET: z
    .string({ error: 'is required (at least 32 characters; npm start generates one)' })
    .min(32, 'must be at least 32 characters'),
  LINK_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 90).default(24 * 14),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /**
   * The API keys, each by name and SHA-256 with its principal (a person, or a service with its
   * roles): an inline JSON list or the path of a YAML/JSON file (see src/auth/api-keys.ts).
   */
  API_KEYS: z
    .string({ error: 'is required: an inline JSON list of keys or the path of a YAML/JSON file listing them (npm start generates one)' })
    .min(1, 'is required: an inline JSON list of keys or the path of a YAML/JSON file listing them')
    .transform((value, ctx) => {
      try {
        return readApiKeysSource(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    })
    .pipe(apiKeysSchema),
  /** Anonymous keys are gone: every key belongs to a principal (API_KEYS). */
  ADMIN_API_KEYS: z
    .undefined({
      error: 'is replaced by API_KEYS (each key by name and SHA-256, with the person or service it belongs to); `npm run cli -- keys hash` prints the hash of a key',
    })
    .optional(),
  DATA_DIR: z.string().min(1).default('./data').transform((p) => path.resolve(p)),
  ORG_FILE: z
    .string()
    .min(1)
    .default('./config/organization.example.yaml')
    .transform((p) => path.resolve(p)),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  /** The reverse proxies in front of the API whose X-Forwarded-For is believed (see `trustProxy`). */
  TRUST_PROXY: trustProxy,
  /** Page requests a minute with a valid link, per person the link names (each API replica counts its own). */
  LINK_LIMIT_PER_PERSON: z.coerce.number().int().min(1, 'must be at least 1').max(100_000).default(120),
  /** Link checks that failed (forged, altered, expired, malformed) a minute per client address, before 429. */
  LINK_FAILURE_LIMIT_PER_ADDRESS: z.coerce.number().int().min(1, 'must be at least 1').max(100_000).default(30),
  /**
   * A workflow bundle written by `npm run build` (dist/workflow-bundle.js): the worker starts
   * from it instead of bundling workflows/ at every start. Unset: bundle at start.
   */
  WORKFLOW_BUNDLE: z
    .string()
    .min(1)
    .transform((p) => path.resolve(p))
    .optional(),
  /**
   * Memory (MB) the worker's workflow cache may take: its bound is this over what one cached
   * workflow costs (workers/worker.ts CACHED_WORKFLOW_MB), unless WORKER_MAX_CACHED_WORKFLOWS
   * sets the bound itself. A workflow not in the cache is replayed from its history when it next
   * has work (a timer, an update, a page's query): milliseconds for a task or an approval.
   */
  WORKER_CACHE_MEMORY_MB: z.coerce
    .number()
    .int()
    .min(8, 'must be at least 8')
    .max(65_536, 'must be at most 65536')
    .default(WORKER_CACHE_MEMORY_MB_DEFAULT),
  /** The worker's workflow cache bound; unset: derived from WORKER_CACHE_MEMORY_MB. */
  WORKER_MAX_CACHED_WORKFLOWS: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.coerce.number().int().min(10, 'must be at least 10').max(100_000, 'must be at most 100000').optional(),
  ),
  /** How long a page waits for a workflow's live status before it shows the last published state. */
  PAGE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100, 'must be at least 100').max(60_000, 'must be at most 60000').default(2500),
  /** How long a page's form waits for the workflow to take the answer before giving the form back, not saved. */
  PAGE_UPDATE_TIMEOUT_MS: z.coerce.number().int().min(500, 'must be at least 500').max(60_000, 'must be at most 60000').default(5000),
  /** Deadline of each Temporal visibility list behind the console's home, its calendar and the calendar feeds; past it the page answers 503. */
  CONSOLE_LIST_TIMEOUT_MS: z.coerce.number().int().min(100, 'must be at least 100').max(60_000, 'must be at most 60000').default(5000),
  /** Deadline of the SMTP check in /readyz (connect, greeting, EHLO). */
  SMTP_CHECK_TIMEOUT_MS: z.coerce.number().int().min(100, 'must be at least 100').max(60_000, 'must be at most 60000').default(5000),
  /** Where operations are told about a workflow that failed (none: it is logged only). */
  ALERT_EMAIL: z.email().optional(),
  /**
   * How often the ledger head is captured and mailed outside the database (the `daily/ledger-anchor`
   * Temporal Schedule a worker creates at start); `off`: no schedule is created or changed.
   */
  LEDGER_ANCHOR_EVERY: z
    .string()
    .trim()
    .default('1d')
    .refine((v) => v === 'off' || (parseDuration(v) ?? 0) >= 60_000, 'must be a duration of at least 1m, such as "1d" or "12h", or "off"')
    .refine((v) => v === 'off' || (parseDuration(v) ?? 0) <= 366 * 86_400_000, 'must be at most 366d'),
  /**
   * The worker's Prometheus endpoint (the Temporal SDK's own exporter: its `temporal_*` metrics
   * and the activities' counters at `/metrics`); empty turns it off.
   */
  WORKER_METRICS_ADDRESS: z
    .string()
    .trim()
    .default('127.0.0.1:9464')
    .refine((a) => a === '' || HOST_PORT.test(a), { message: 'must be host:port, e.g. 127.0.0.1:9464 (empty: off)', abort: true })
    .refine((a) => a === '' || Number(a.slice(a.lastIndexOf(':') + 1)) <= 65535, 'the port must be at most 65535')
    .transform((a) => a || undefined),
  /** When set, the API's `/metrics` asks for `Authorization: Bearer <METRICS_TOKEN>`; unset, it is open. */
  METRICS_TOKEN: z
    .string()
    .min(24, 'must be at least 24 characters (or unset: /metrics open)')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /**
   * Where operations open the Temporal Web UI: its origin is the one the codec endpoint
   * (/codec/decode, /codec/encode) answers cross-origin, with credentials.
   */
  TEMPORAL_UI_URL: url(['http', 'https']).default('http://localhost:8233'),
  /** `production` makes PAYLOAD_KEYS required (the Dockerfile and docker-compose.yml set it). */
  NODE_ENV: optional(z.string().trim()),
  /**
   * The keys that encrypt workflow payloads (src/temporal/codec.ts): `id:base64key,...`, each key
   * 32 bytes, the current one first; older ones after it still decrypt. Required when NODE_ENV is
   * production; unset elsewhere, the public development key (which protects nothing) is used.
   */
  PAYLOAD_KEYS: optional(z.string()).transform((value, ctx) => {
    try {
      return Object.freeze(parsePayloadKeys(value ?? DEVELOPMENT_PAYLOAD_KEYS));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
  /**
   * Sign-in for people (OpenID Connect, authorization code with PKCE; src/auth/). Unset: sign-in
   * is off, /login says so, and the admin API takes keys only. https, or http on a loopback host.
   */
  OIDC_ISSUER: optional(
    z
      .url({ protocol: /^https?$/, error: "must be the provider's issuer URL, e.g. https://login.example.com/realms/aims" })
      .refine((u) => u.startsWith('https://') || isLoopbackUrl(u), 'must be https (http only on localhost or 127.0.0.1)')
      .transform((u) => u.replace(/\/+$/, '')),
  ),
  /** The client (application) id registered at the provider for this API. */
  OIDC_CLIENT_ID: optional(z.string().trim().min(1)),
  /** The client's secret; unset: a public client (PKCE only, no client authentication). */
  OIDC_CLIENT_SECRET: optional(z.string().min(1)),
  /** Where the provider sends people back; default `<PUBLIC_BASE_URL>/auth/callback`. Register exactly this at the provider. */
  OIDC_REDIRECT_URL: optional(url(['http', 'https'])),
  /** Which ID token claim names the person: `email` (matched to the organization file's e-mail addresses) or `sub` (matched to person ids). */
  OIDC_PERSON_CLAIM: z.enum(['email', 'sub']).default('email'),
  /** Scopes asked of the provider (space-separated; `openid` is always included). */
  OIDC_SCOPES: z.string().trim().default('openid email profile'),
  /** Deadline of every call to the provider (discovery, keys, token exchange). */
  OIDC_TIMEOUT_MS: z.coerce.number().int().min(500, 'must be at least 500').max(60_000, 'must be at most 60000').default(5000),
  /** Encrypts and signs the session cookie (at least 32 characters); required with OIDC_ISSUER. npm start generates one. */
  SESSION_SECRET: optional(z.string().min(32, 'must be at least 32 characters')),
  /** A session ends after this many minutes without a request. */
  SESSION_IDLE_MINUTES: z.coerce.number().int().min(1, 'must be at least 1').max(24 * 60, 'must be at most 1440').default(60),
  /** A session ends this many hours after sign-in, however active. */
  SESSION_MAX_HOURS: z.coerce.number().int().min(1, 'must be at least 1').max(24 * 30, 'must be at most 720').default(12),
}).superRefine((c, ctx) => {
  if (c.NODE_ENV === 'production' && c.PAYLOAD_KEYS.some((k) => k.id === DEVELOPMENT_KEY_ID)) {
    ctx.addIssue({
      code: 'custom',
      path: ['PAYLOAD_KEYS'],
      message: 'is required in production (NODE_ENV=production), without the public development key: id:base64key of 32 random bytes, e.g. k1:$(openssl rand -base64 32)',
    });
  }
  if (c.OIDC_ISSUER === undefined) return;
  // Sign-in needs its client and a session key; name each missing variable.
  if (c.OIDC_CLIENT_ID === undefined) ctx.addIssue({ code: 'custom', path: ['OIDC_CLIENT_ID'], message: 'is required with OIDC_ISSUER (the client id registered at the provider)' });
  if (c.SESSION_SECRET === undefined) ctx.addIssue({ code: 'custom', path: ['SESSION_SECRET'], message: 'is required with OIDC_ISSUER (at least 32 characters; npm start generates one)' });
});

export type Config = Readonly<z.output<typeof configSchema>>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment into a frozen Config, or throws ConfigError with one line per bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const [first, ...rest] = issue.path;
      const variable = String(first ?? '(environment)') + rest.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      return `${variable}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  return Object.freeze({ ...result.data, API_KEYS: Object.freeze(result.data.API_KEYS.map((k) => Object.freeze(k))) }) as Config;
}

let cached: Config | undefined;

/** The process configuration, parsed from process.env on first use and then reused. */
export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

/**
 * For entry points: parse the configuration or print one line per bad variable and exit 1.
 */
export function configOrExit(): Config {
  try {
    return config();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
