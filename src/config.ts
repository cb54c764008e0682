/**
 * Process configuration: one zod schema over the environment, parsed once and frozen.
 *
 * Secrets (LINK_SECRET, ADMIN_API_KEYS) have no defaults. `npm start` generates development
 * secrets once and keeps them in the data directory (see scripts/dev-secrets.ts).
 */
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from './temporal/search-attributes.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `host:port`, the host a name, an IPv4 address or a bracketed IPv6 address. */
const HOST_PORT = /^([^\s:[\]]+|\[[0-9a-fA-F:]+\]):\d{1,5}$/;

const port = z.coerce.number().int().min(1).max(65535);

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
  ADMIN_API_KEYS: z
    .string({ error: 'is required: comma-separated keys of at least 24 characters each' })
    .transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean))
    .pipe(
      z
        .array(z.string().min(24, 'each key must be at least 24 characters'))
        .min(1, 'needs at least one key'),
    ),
  DATA_DIR: z.string().min(1).default('./data').transform((p) => path.resolve(p)),
  ORG_FILE: z
    .string()
    .min(1)
    .default('./config/organization.example.yaml')
    .transform((p) => path.resolve(p)),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
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
  /** Deadline of the SMTP check in /readyz (connect, greeting, EHLO). */
  SMTP_CHECK_TIMEOUT_MS: z.coerce.number().int().min(100, 'must be at least 100').max(60_000, 'must be at most 60000').default(5000),
  /** Where operations are told about a workflow that failed (none: it is logged only). */
  ALERT_EMAIL: z.email().optional(),
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
      const variable = String(issue.path[0] ?? '(environment)');
      return `${variable}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  return Object.freeze({ ...result.data, ADMIN_API_KEYS: Object.freeze([...result.data.ADMIN_API_KEYS]) }) as Config;
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
