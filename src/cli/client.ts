/**
 * The admin CLI's client of the admin HTTP API: every command is one or a few API calls, so
 * the CLI and the API apply the same validation and the same rules.
 */
import { z } from 'zod';

export const cliEnvSchema = z.object({
  /** Where the API listens, e.g. `http://127.0.0.1:3000`. */
  AIMSFLOW_API_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).default('http://127.0.0.1:3000'),
  /** An API key of the API's API_KEYS: the CLI acts as the key's person or service. */
  AIMSFLOW_ADMIN_KEY: z.string({ error: 'is required: an API key listed (by hash) in the API\'s API_KEYS' }).min(16, 'must be at least 16 characters'),
  /** Seconds to wait for each API call. */
  AIMSFLOW_API_TIMEOUT: z.coerce.number().int().min(1).max(600).default(30),
});
export type CliEnv = z.output<typeof cliEnvSchema>;

/** Help of the `--by` options: the API records whoever holds the key, and refuses any other name. */
export const BY_HELP = "your person id, if given (it must be the key's person: the API records whoever holds the key)";

/** A failure the CLI prints as one line (or a few, one per bad field) and exits 1 with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface AdminApi {
  /** Calls the admin API; resolves with the parsed JSON body of a 2xx answer. */
  request<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, headers?: Record<string, string>): Promise<T>;
}

/** Parses the CLI's environment once; a missing key or bad URL is a CliError naming it. */
export function parseCliEnv(env: NodeJS.ProcessEnv): CliEnv {
  const parsed = cliEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new CliError(
      'The admin CLI is not configured',
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
    );
  }
  return parsed.data;
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);
const ATTEMPTS = 3;

export function createAdminApi(env: CliEnv, fetchImpl: typeof fetch = fetch): AdminApi {
  const base = env.AIMSFLOW_API_URL.replace(/\/+$/, '');
  return {
    async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
      const url = `${base}${path}`;
      let lastError: unknown;
      // GET, PUT and DELETE are idempotent; POSTs are retried only with an Idempotency-Key.
      const hasIdempotencyKey = Object.keys(headers).some((k) => k.toLowerCase() === 'idempotency-key');
      const retryable = (method !== 'POST' && method !== 'PATCH') || hasIdempotencyKey;
      for (let attempt = 1; attempt <= (retryable ? ATTEMPTS : 1); attempt += 1) {
        let response: Response;
        try {
          response = await fetchImpl(url, {
            method,
            headers: {
              authorization: `Bearer ${env.AIMSFLOW_ADMIN_KEY}`,
              accept: 'application/json',
              ...(body === undefined ? {} : { 'content-type': 'application/json' }),
              ...headers,
            },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            signal: AbortSignal.timeout(env.AIMSFLOW_API_TIMEOUT * 1000),
          });
        } catch (err) {
          lastError = new CliError(`${method} ${path}: cannot reach the API at ${base} (${err instanceof Error ? err.message : String(err)})`);
          if (attempt < ATTEMPTS && retryable) await new Promise((r) => setTimeout(r, 500 * 2 ** (attempt - 1)));
          continue;
        }
        const text = await response.text();
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        if (response.ok) return json as T;
        const problem = json as { message?: string; issues?: { path: string; message: string }[] } | undefined;
        const error = new CliError(
          `${method} ${path}: ${response.status} ${problem?.message ?? response.statusText}`,
          (problem?.issues ?? []).map((i) => `${i.path}: ${i.message}`),
        );
        if (!RETRYABLE_STATUS.has(response.status) || !retryable) throw error;
        lastError = error;
        if (attempt < ATTEMPTS) await new Promise((r) => setTimeout(r, 500 * 2 ** (attempt - 1)));
      }
      throw lastError;
    },
  };
}
