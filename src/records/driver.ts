/**
 * The smallest database surface the records store needs, over PGlite (embedded) or
 * PostgreSQL (`pg` Pool), so both run the same SQL.
 */
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { Logger } from '../logger.js';

export type Row = Record<string, unknown>;

export interface Sql {
  /** One statement, with `$1`-style parameters. */
  query<T extends Row = Row>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Several statements, no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Driver extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Runs `fn` in a transaction, committed when it resolves, rolled back when it throws.
   * On PostgreSQL a transaction that failed for a transient reason (lost connection,
   * serialization failure, deadlock) is run again, so `fn` must be safe to repeat.
   */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** PGlite: one in-process connection; PGlite itself queues queries and transactions. */
export function pgliteDriver(db: PGlite, opts: { owned: boolean }): Driver {
  const runner = (q: Pick<PGlite, 'query' | 'exec'>): Sql => ({
    async query<T extends Row>(sql: string, params?: unknown[]) {
      return (await q.query<T>(sql, params)).rows;
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  });
  return {
    kind: 'pglite',
    ...runner(db),
    transaction: (fn) => db.transaction((tx) => fn(runner(tx))),
    async close() {
      if (opts.owned && !db.closed) await db.close();
    },
  };
}

export interface PostgresOptions {
  /** Pool size (default 5). */
  poolSize?: number;
  /** Wait for a connection at most this long (default 5 s). */
  connectTimeoutMs?: number;
  /** Server-side statement_timeout and client-side query timeout basis (default 30 s). */
  statementTimeoutMs?: number;
  /** Attempts for an operation that fails for a transient reason (default 3). */
  attempts?: number;
  logger?: Logger;
}

const TRANSIENT_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '53300', // too_many_connections
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
]);
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);
const TRANSIENT_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
];

/** Whether an error from `pg` is worth one more try: the connection, not the statement, failed. */
export function isTransientPgError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || TRANSIENT_SQLSTATES.has(code) || TRANSIENT_NODE_CODES.has(code)) return true;
  }
  return TRANSIENT_MESSAGES.some((m) => err.message.includes(m));
}

async function withRetry<T>(attempts: number, logger: Logger | undefined, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isTransientPgError(err)) throw err;
      const delay = Math.min(2000, 100 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      logger?.warn({ err, attempt, delayMs: Math.round(delay) }, `records store: ${what} failed, retrying`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

export function postgresDriver(connectionString: string, opts: PostgresOptions = {}): Driver {
  const statementTimeout = opts.statementTimeoutMs ?? 30_000;
  const attempts = opts.attempts ?? 3;
  const logger = opts.logger;
  const pool = new pg.Pool({
    connectionString,
    max: opts.poolSize ?? 5,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: statementTimeout,
    query_timeout: statementTimeout + 5_000,
    idle_in_transaction_session_timeout: statementTimeout * 2,
    application_name: 'aimsflow-records',
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', (err) => logger?.warn({ err }, 'records store: idle PostgreSQL connection failed'));

  const runner = (client: pg.Pool | pg.PoolClient): Sql => ({
    async query<T extends Row>(sql: string, params?: unknown[]) {
      return (await client.query<T>(sql, params)).rows;
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  });
  const direct = runner(pool);

  return {
    kind: 'postgres',
    query: (sql, params) => withRetry(attempts, logger, 'query', () => direct.query(sql, params)),
    exec: (sql) => withRetry(attempts, logger, 'statement', () => direct.exec(sql)),
    transaction: (fn) =>
      withRetry(attempts, logger, 'transaction', async () => {
        const client = await pool.connect();
        let broken: Error | undefined;
        try {
          await client.query('BEGIN');
          const result = await fn(runner(client));
          await client.query('COMMIT');
          return result;
        } catch (err) {
          try {
            await client.query('ROLLBACK');
          } catch (rollbackErr) {
            broken = rollbackErr as Error;
          }
          throw err;
        } finally {
          client.release(broken);
        }
      }),
    async close() {
      await pool.end();
    },
  };
}
