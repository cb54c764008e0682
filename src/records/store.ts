/**
 * The evidence ledger on PostgreSQL (when a database URL is configured) or on embedded
 * PGlite (persisted under `${dataDir}/records`, or in memory for `dataDir: 'memory://'`).
 * Same SQL and migrations on both; see migrations.ts for the tables and the triggers that
 * keep them append-only.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Logger } from '../logger.js';
import { pgliteDriver, postgresDriver, type Driver, type PostgresOptions } from './driver.js';
import { RecordConflictError, RecordsStoreClosedError, RecordValidationError } from './errors.js';
import { contentHashOf, recordHashOf } from './hash.js';
import { acquireLock } from './lockfile.js';
import { migrate } from './migrations.js';
import { COLUMNS, isoOf, toRecord } from './rows.js';
import { AnchorCheck, anchoredChain, MAX_ANCHOR_RECORD_HASHES, withAnchors } from './anchors.js';
import type {
  AcceptedOrganization,
  AnchorRef,
  EvidenceRecord,
  LedgerAnchor,
  LedgerHead,
  NewRecord,
  RecordFilter,
  RecordsRead,
  RecordsStore,
  SentNotification,
  VerifyOptions,
  VerifyResult,
} from './types.js';
import { parseNewRecord, parseRecordFilter, parseSentNotification } from './validation.js';
import { LedgerWatch } from './verify.js';

/** `dataDir` value that keeps an embedded store in memory only (tests, benchmarks). */
export const IN_MEMORY = 'memory://';

/**
 * The embedded database's settings. PostgreSQL's default 128 MB of shared buffers becomes memory
 * of the single process `npm start` runs (with the worker and the API), resident once written;
 * 16 MB hold the ledger's working set and keep that process about 120 MB smaller.
 */
const PGLITE_OPTIONS = { postgresqlconf: 'shared_buffers = 16MB' };

export interface OpenRecordsStoreOptions {
  /** postgres:// URL; when set the store uses PostgreSQL, otherwise embedded PGlite. */
  databaseUrl?: string | undefined;
  /** The PGlite database lives in `${dataDir}/records`; `memory://` keeps it in memory. */
  dataDir: string;
  logger?: Logger | undefined;
  /** Use this PGlite instance instead of opening one; the store leaves it open on close(). */
  pglite?: PGlite | undefined;
  /** Pool size and timeouts for PostgreSQL. */
  postgres?: Omit<PostgresOptions, 'logger'> | undefined;
}

export async function openRecordsStore(opts: OpenRecordsStoreOptions): Promise<RecordsStore> {
  const logger = opts.logger;
  let release: (() => Promise<void>) | undefined;
  let driver: Driver;
  if (opts.pglite) {
    driver = pgliteDriver(opts.pglite, { owned: false });
  } else if (opts.databaseUrl) {
    driver = postgresDriver(opts.databaseUrl, { ...opts.postgres, logger });
  } else if (opts.dataDir === IN_MEMORY) {
    driver = pgliteDriver(await PGlite.create(IN_MEMORY, PGLITE_OPTIONS), { owned: true });
  } else {
    const dir = path.resolve(opts.dataDir, 'records');
    await mkdir(opts.dataDir, { recursive: true });
    release = await acquireLock(`${dir}.lock`);
    try {
      driver = pgliteDriver(await PGlite.create(dir, PGLITE_OPTIONS), { owned: true });
    } catch (err) {
      await release();
      throw err;
    }
  }
  try {
    const [encoding] = await driver.query<{ server_encoding: string }>('SHOW server_encoding');
    if (encoding?.server_encoding !== 'UTF8') {
      throw new Error(
        `records database must use UTF8 encoding, found ${encoding?.server_encoding ?? 'none'} (create it with ENCODING 'UTF8')`,
      );
    }
    await migrate(driver, logger);
  } catch (err) {
    await driver.close().catch(() => undefined);
    await release?.();
    throw err;
  }
  logger?.debug({ backend: driver.kind }, 'records store open');
  return new SqlRecordsStore(driver, logger, release);
}

/** The existing record when it is the same one again, otherwise a conflict. */
function sameOrConflict(existing: EvidenceRecord, rec: NewRecord, contentHash: string): EvidenceRecord {
  const differs: string[] = [];
  if (existing.kind !== rec.kind) differs.push('kind');
  if (existing.subject !== rec.subject) differs.push('subject');
  if (existing.clauses.length !== rec.clauses.length || existing.clauses.some((c, i) => c !== rec.clauses[i])) {
    differs.push('clauses');
  }
  if (existing.actor !== rec.actor) differs.push('actor');
  if (existing.occurredAt !== rec.occurredAt) differs.push('occurredAt');
  if (existing.contentHash !== contentHash) differs.push('content');
  if (differs.length > 0) throw new RecordConflictError(rec.id, differs);
  return existing;
}

function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

class SqlRecordsStore implements RecordsStore {
  private closed = false;
  private readonly watch = new LedgerWatch(() => this.db());

  constructor(
    private readonly driver: Driver,
    private readonly logger: Logger | undefined,
    private readonly release: (() => Promise<void>) | undefined,
  ) {}

  private db(): Driver {
    if (this.closed) throw new RecordsStoreClosedError();
    return this.driver;
  }

  async append(input: NewRecord): Promise<EvidenceRecord> {
    const rec = parseNewRecord(input);
    const contentHash = contentHashOf(rec.content);
    const db = this.db();
    const appended = await db.transaction(async (tx) => {
      // Locking the head row serializes appends, so the chain cannot fork.
      const [head] = await tx.query<{ seq: number | string; hash: string }>(
        'SELECT seq, hash FROM ledger_head FOR UPDATE',
      );
      if (!head) throw new Error('records store: the ledger head row is missing (the ledger was tampered with)');
      const seq = Number(head.seq) + 1;
      const prevHash = head.hash;
      const hash = recordHashOf({ ...rec, seq, contentHash, prevHash });
      // An id already stored (a retried activity) makes the insert a no-op; the index sees
      // committed rows whatever this statement's snapshot.
      const [row] = await tx.query<{ recorded_at: unknown }>(
        `INSERT INTO evidence_records
           (seq, id, kind, subject, clauses, actor, occurred_at, content, content_hash, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9, $10, $11)
         ON CONFLICT (id) DO NOTHING
         RETURNING recorded_at`,
        [seq, rec.id, rec.kind, rec.subject, rec.clauses, rec.actor, rec.occurredAt, JSON.stringify(rec.content), contentHash, prevHash, hash],
      );
      if (!row) {
        const [existing] = await tx.query(`SELECT ${COLUMNS} FROM evidence_records WHERE id = $1`, [rec.id]);
        if (!existing) throw new Error(`records store: record ${rec.id} conflicted but cannot be read`);
        return { record: sameOrConflict(toRecord(existing), rec, contentHash), fresh: false };
      }
      await tx.query('UPDATE ledger_head SET seq = $1, hash = $2', [seq, hash]);
      const record: EvidenceRecord = { ...rec, seq, contentHash, prevHash, hash, recordedAt: isoOf(row.recorded_at) };
      return { record, fresh: true };
    });
    if (appended.fresh) {
      this.logger?.debug({ id: rec.id, seq: appended.record.seq, kind: rec.kind }, 'evidence record appended');
    }
    return appended.record;
  }

  async get(id: string): Promise<EvidenceRecord | undefined> {
    if (typeof id !== 'string' || id === '') return undefined;
    const [row] = await this.db().query(`SELECT ${COLUMNS} FROM evidence_records WHERE id = $1`, [id]);
    return row ? toRecord(row) : undefined;
  }

  async list(input: RecordFilter = {}): Promise<EvidenceRecord[]> {
    const filter = parseRecordFilter(input);
    const params: unknown[] = [];
    const where: string[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filter.subject !== undefined) where.push(`subject = ${param(filter.subject)}`);
    if (filter.subjectPrefix !== undefined) where.push(`subject LIKE ${param(likePrefix(filter.subjectPrefix))} ESCAPE '\\'`);
    if (filter.kind !== undefined) where.push(`kind = ${param(filter.kind)}`);
    if (filter.clause !== undefined) where.push(`clauses @> ARRAY[${param(filter.clause)}]::text[]`);
    if (filter.from !== undefined) where.push(`occurred_at >= ${param(filter.from)}::timestamptz`);
    if (filter.to !== undefined) where.push(`occurred_at < ${param(filter.to)}::timestamptz`);
    if (filter.afterSeq !== undefined) where.push(`seq > ${param(filter.afterSeq)}`);
    const sql =
      `SELECT ${COLUMNS} FROM evidence_records` +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY seq LIMIT ${param(filter.limit)}`;
    return (await this.db().query(sql, params)).map(toRecord);
  }

  async read(filter: RecordFilter = {}): Promise<RecordsRead> {
    return this.check(await this.list(filter));
  }

  async check(records: readonly EvidenceRecord[]): Promise<RecordsRead> {
    // The ledger is checked after the records were read, so the check covers every one of them.
    const ledger = await this.watch.status();
    return { records: records.map((r) => ({ ...r, verified: r.seq <= ledger.verifiedThrough })), ledger };
  }

  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    const result = await this.watch.verify();
    if (!options.anchors?.length) return result;
    return withAnchors(result, await this.checkAnchors(options.anchors));
  }

  /**
   * Recomputes the chain from the first record up to the last anchor and compares it with the
   * anchors, and with the anchored chain the database keeps: the record hashes of the anchors it
   * captured, as far as an anchor given agrees with the database's anchor at the same seq.
   */
  private async checkAnchors(anchors: AnchorRef[]) {
    const db = this.db();
    const head = await this.head();
    const stored = await this.anchors.list();
    const confirmed = Math.max(0, ...stored.filter((s) => anchors.some((a) => a.seq === s.seq && a.hash === s.hash)).map((s) => s.seq));
    const witness = confirmed > 0 ? await this.anchors.list({ throughSeq: confirmed, withRecordHashes: true }) : [];
    const check = new AnchorCheck(anchors, anchoredChain(witness));
    const bound = Math.min(check.lastSeq, head.seq);
    for (let last = 0; last < bound; ) {
      const page = await db.query(`SELECT ${COLUMNS} FROM evidence_records WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 500`, [last, bound]);
      for (const row of page) check.feed(toRecord(row));
      const lastRow = page.at(-1);
      if (!lastRow) break;
      last = Number(lastRow.seq);
    }
    return check.finish(head.seq);
  }

  async head(): Promise<LedgerHead> {
    const [row] = await this.db().query<{ seq: number | string; hash: string; at: unknown }>('SELECT seq, hash, now() AS at FROM ledger_head');
    if (!row) throw new Error('records store: the ledger head row is missing (the ledger was tampered with)');
    return { seq: Number(row.seq), hash: row.hash, at: isoOf(row.at) };
  }

  readonly anchors = {
    capture: async (): Promise<LedgerAnchor | undefined> => {
      return this.db().transaction(async (tx) => {
        // One capture at a time, so two runs at once agree on the anchor before this one.
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['ledger_anchors']);
        const [head] = await tx.query<{ seq: number | string; hash: string }>('SELECT seq, hash FROM ledger_head');
        if (!head) throw new Error('records store: the ledger head row is missing (the ledger was tampered with)');
        const seq = Number(head.seq);
        if (seq === 0) return undefined;
        const [existing] = await tx.query(`SELECT ${ANCHOR_COLUMNS}, record_hashes FROM ledger_anchors WHERE seq = $1`, [seq]);
        if (existing) return anchorOf(existing);
        // The records since the last anchor that left the database: an anchor captured but never
        // mailed leaves its records to the next one.
        const [previous] = await tx.query<{ seq: number | string }>('SELECT max(seq) AS seq FROM ledger_anchors WHERE published_at IS NOT NULL');
        const previousSeq = Number(previous?.seq ?? 0);
        const from = Math.max(previousSeq, seq - MAX_ANCHOR_RECORD_HASHES);
        const rows = await tx.query<{ seq: number | string; hash: string }>('SELECT seq, hash FROM evidence_records WHERE seq > $1 AND seq <= $2 ORDER BY seq', [from, seq]);
        const recordHashes = rows.map((r) => [Number(r.seq), r.hash] as [number, string]);
        const [row] = await tx.query(
          `INSERT INTO ledger_anchors (seq, hash, previous_seq, record_hashes) VALUES ($1, $2, $3, $4::text::jsonb)
           RETURNING ${ANCHOR_COLUMNS}, record_hashes`,
          [seq, head.hash, previousSeq, JSON.stringify(recordHashes)],
        );
        return anchorOf(row as Record<string, unknown>);
      });
    },
    get: async (seq: number): Promise<LedgerAnchor | undefined> => {
      if (!Number.isSafeInteger(seq)) return undefined;
      const [row] = await this.db().query(`SELECT ${ANCHOR_COLUMNS}, record_hashes FROM ledger_anchors WHERE seq = $1`, [seq]);
      return row ? anchorOf(row) : undefined;
    },
    published: async (seq: number, recipients: string[]): Promise<LedgerAnchor | undefined> => {
      const [row] = await this.db().query(
        `UPDATE ledger_anchors SET published_at = coalesce(published_at, now()),
                recipients = CASE WHEN published_at IS NULL THEN $2::text[] ELSE recipients END
          WHERE seq = $1 RETURNING ${ANCHOR_COLUMNS}, record_hashes`,
        [seq, recipients],
      );
      return row ? anchorOf(row) : undefined;
    },
    list: async (options: { throughSeq?: number; publishedOnly?: boolean; withRecordHashes?: boolean } = {}): Promise<LedgerAnchor[]> => {
      const where: string[] = [];
      const params: unknown[] = [];
      if (options.throughSeq !== undefined) {
        params.push(options.throughSeq);
        where.push(`seq <= $${params.length}`);
      }
      if (options.publishedOnly) where.push('published_at IS NOT NULL');
      const rows = await this.db().query(
        `SELECT ${ANCHOR_COLUMNS}${options.withRecordHashes ? ', record_hashes' : ''} FROM ledger_anchors` +
          (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
          ' ORDER BY seq',
        params,
      );
      return rows.map(anchorOf);
    },
  };

  readonly notifications = {
    find: async (notificationId: string): Promise<SentNotification | undefined> => {
      if (typeof notificationId !== 'string' || notificationId === '') return undefined;
      const [row] = await this.db().query(
        'SELECT notification_id, message_id, recipients, sent_at FROM sent_notifications WHERE notification_id = $1',
        [notificationId],
      );
      if (!row) return undefined;
      return {
        notificationId: String(row.notification_id),
        messageId: String(row.message_id),
        recipients: (row.recipients as string[] | null) ?? [],
        sentAt: isoOf(row.sent_at),
      };
    },
    remember: async (input: SentNotification): Promise<void> => {
      const sent = parseSentNotification(input);
      await this.db().query(
        `INSERT INTO sent_notifications (notification_id, message_id, recipients, sent_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (notification_id) DO NOTHING`,
        [sent.notificationId, sent.messageId, sent.recipients, sent.sentAt],
      );
    },
  };

  readonly organizations = {
    latest: async (): Promise<AcceptedOrganization | undefined> => {
      const [row] = await this.db().query('SELECT seq, hash, document, accepted_by, reason, accepted_at FROM organization_versions ORDER BY seq DESC LIMIT 1');
      return row ? acceptedOf(row) : undefined;
    },
    accept: async (version: { hash: string; document: unknown; acceptedBy: string; reason: string }): Promise<AcceptedOrganization & { created: boolean }> => {
      if (!/^[0-9a-f]{64}$/.test(version.hash)) throw new RecordValidationError('organization version', [{ field: 'hash', message: 'must be a sha256 hex digest' }]);
      return this.db().transaction(async (tx) => {
        // Two processes accepting the same file at once accept it once.
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['organization_versions']);
        const [latest] = await tx.query('SELECT seq, hash, document, accepted_by, reason, accepted_at FROM organization_versions ORDER BY seq DESC LIMIT 1');
        if (latest && String(latest.hash) === version.hash) return { ...acceptedOf(latest), created: false };
        const [row] = await tx.query(
          `INSERT INTO organization_versions (hash, document, accepted_by, reason) VALUES ($1, $2, $3, $4)
           RETURNING seq, hash, document, accepted_by, reason, accepted_at`,
          [version.hash, JSON.stringify(version.document), version.acceptedBy, version.reason],
        );
        return { ...acceptedOf(row as Record<string, unknown>), created: true };
      });
    },
  };

  async allocateSequence(scope: string, key: string): Promise<number> {
    for (const [name, value] of [['scope', scope], ['key', key]] as const) {
      if (typeof value !== 'string' || value.trim() === '' || value.length > 500) {
        throw new RecordValidationError('sequence allocation', [{ field: name, message: 'must be a non-empty string of at most 500 characters' }]);
      }
    }
    return this.db().transaction(async (tx) => {
      // Serializes allocations within a scope so numbers stay gapless under concurrency.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sequence:${scope}`]);
      const [existing] = await tx.query('SELECT value FROM sequence_allocations WHERE scope = $1 AND key = $2', [scope, key]);
      if (existing) return Number(existing.value);
      const [next] = await tx.query(
        `INSERT INTO sequence_allocations (scope, key, value)
         SELECT $1, $2, COALESCE(MAX(value), 0) + 1 FROM sequence_allocations WHERE scope = $1
         RETURNING value`,
        [scope, key],
      );
      return Number(next?.value);
    });
  }

  async ping(): Promise<void> {
    await this.db().query('SELECT 1 AS ok');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.driver.close();
    } finally {
      await this.release?.();
    }
  }
}

const ANCHOR_COLUMNS = 'seq, hash, anchored_at, previous_seq, published_at, recipients';

function anchorOf(row: Record<string, unknown>): LedgerAnchor {
  const hashes = typeof row.record_hashes === 'string' ? (JSON.parse(row.record_hashes) as unknown) : row.record_hashes;
  return {
    seq: Number(row.seq),
    hash: String(row.hash),
    at: isoOf(row.anchored_at),
    previousSeq: Number(row.previous_seq),
    recordHashes: Array.isArray(hashes) ? (hashes as Array<[number, string]>).map(([seq, hash]) => [Number(seq), String(hash)]) : [],
    publishedAt: row.published_at === null || row.published_at === undefined ? null : isoOf(row.published_at),
    recipients: (row.recipients as string[] | null) ?? [],
  };
}

function acceptedOf(row: Record<string, unknown>): AcceptedOrganization {
  const document = typeof row.document === 'string' ? (JSON.parse(row.document) as unknown) : row.document;
  return {
    seq: Number(row.seq),
    hash: String(row.hash),
    document,
    acceptedBy: String(row.accepted_by),
    reason: String(row.reason),
    acceptedAt: isoOf(row.accepted_at),
  };
}
