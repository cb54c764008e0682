/**
 * Versioned schema of the records store, the same SQL on PGlite and PostgreSQL. Applied at
 * open inside one transaction that first takes a transaction-scoped advisory lock, so two
 * processes opening the same database at once apply each migration exactly once.
 * A migration is never edited once released; changes come as a new version.
 */
import type { Logger } from '../logger.js';
import type { Driver } from './driver.js';
import { sha256Hex } from './hash.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Key of the advisory lock held while migrating ("aimsflow records" as an arbitrary bigint). */
export const MIGRATION_LOCK_KEY = 4_272_019_750_001;

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'evidence ledger',
    sql: `
CREATE TABLE evidence_records (
  seq          bigint      PRIMARY KEY CHECK (seq > 0),
  id           text        NOT NULL UNIQUE CHECK (id <> ''),
  kind         text        NOT NULL CHECK (kind <> ''),
  subject      text        NOT NULL CHECK (subject <> ''),
  clauses      text[]      NOT NULL,
  actor        text        NOT NULL CHECK (actor <> ''),
  occurred_at  timestamptz NOT NULL,
  content      jsonb       NOT NULL,
  content_hash text        NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
  prev_hash    text        NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash         text        NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
  recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evidence_records_subject_idx ON evidence_records (subject text_pattern_ops, seq);
CREATE INDEX evidence_records_kind_idx ON evidence_records (kind, seq);
CREATE INDEX evidence_records_clauses_idx ON evidence_records USING gin (clauses);
CREATE INDEX evidence_records_occurred_at_idx ON evidence_records (occurred_at);

-- The last appended record. Appends lock this row, which serializes them; verify() compares
-- the chain's end with it, which reveals records deleted from the end.
CREATE TABLE ledger_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq       bigint  NOT NULL CHECK (seq >= 0),
  hash      text    NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
);
INSERT INTO ledger_head (singleton, seq, hash) VALUES (true, 0, repeat('0', 64));

CREATE FUNCTION evidence_records_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'evidence_records is append-only: % refused', TG_OP
    USING HINT = 'Evidence is corrected by appending a new record that refers to the old one.';
END
$fn$;
CREATE TRIGGER evidence_records_append_only
  BEFORE UPDATE OR DELETE ON evidence_records
  FOR EACH ROW EXECUTE FUNCTION evidence_records_refuse_change();
CREATE TRIGGER evidence_records_no_truncate
  BEFORE TRUNCATE ON evidence_records
  FOR EACH STATEMENT EXECUTE FUNCTION evidence_records_refuse_change();

CREATE FUNCTION ledger_head_guard() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP <> 'UPDATE' THEN
    RAISE EXCEPTION 'ledger_head is append-only: % refused', TG_OP;
  END IF;
  IF NEW.singleton IS DISTINCT FROM OLD.singleton
     OR NEW.seq <> OLD.seq + 1
     OR NOT EXISTS (
       SELECT 1 FROM evidence_records r
        WHERE r.seq = NEW.seq AND r.hash = NEW.hash AND r.prev_hash = OLD.hash
     ) THEN
    RAISE EXCEPTION 'ledger_head may only advance to the record appended after it (from % to %)', OLD.seq, NEW.seq;
  END IF;
  RETURN NEW;
END
$fn$;
CREATE TRIGGER ledger_head_advance_only
  BEFORE UPDATE OR DELETE ON ledger_head
  FOR EACH ROW EXECUTE FUNCTION ledger_head_guard();
CREATE TRIGGER ledger_head_no_truncate
  BEFORE TRUNCATE ON ledger_head
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_head_guard();
`,
  },
  {
    version: 2,
    name: 'sent notifications',
    sql: `
CREATE TABLE sent_notifications (
  notification_id text        PRIMARY KEY CHECK (notification_id <> ''),
  message_id      text        NOT NULL,
  recipients      text[]      NOT NULL,
  sent_at         timestamptz NOT NULL
);
`,
  },
  {
    version: 3,
    name: 'sequence allocations',
    sql: `
-- Readable numbers such as NC-2027-004: one row per allocation. The same (scope, key) always
-- returns the number it got first, so a retried activity or a double submit gets one number.
CREATE TABLE sequence_allocations (
  scope        text        NOT NULL CHECK (scope <> ''),
  key          text        NOT NULL CHECK (key <> ''),
  value        integer     NOT NULL CHECK (value > 0),
  allocated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key),
  UNIQUE (scope, value)
);
`,
  },
  {
    version: 4,
    name: 'accepted organization files',
    sql: `
-- The organization file in force: each version accepted (after its checks against running work)
-- is a row; the newest row is the one every process uses. Kept apart from the ledger, which
-- records only the fact of each change (hashes and person ids), not the people's details.
CREATE TABLE organization_versions (
  seq         bigserial   PRIMARY KEY,
  hash        text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  document    jsonb       NOT NULL,
  accepted_by text        NOT NULL CHECK (accepted_by <> ''),
  reason      text        NOT NULL,
  accepted_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    version: 5,
    name: 'ledger anchors',
    sql: `
-- Ledger heads captured to be published outside the database (mailed to the AIMS manager and
-- the external auditors), each with the hash of every record since the anchor before it: the
-- anchored chain that verify compares a recomputed chain against. Rows are never deleted and
-- never change, except that publishing fills published_at and recipients.
CREATE TABLE ledger_anchors (
  seq           bigint      PRIMARY KEY CHECK (seq > 0),
  hash          text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  anchored_at   timestamptz NOT NULL DEFAULT now(),
  previous_seq  bigint      NOT NULL CHECK (previous_seq >= 0 AND previous_seq < seq),
  record_hashes jsonb       NOT NULL,
  published_at  timestamptz,
  recipients    text[]      NOT NULL DEFAULT '{}'
);

CREATE FUNCTION ledger_anchors_guard() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP <> 'UPDATE'
     OR NEW.seq IS DISTINCT FROM OLD.seq OR NEW.hash IS DISTINCT FROM OLD.hash
     OR NEW.anchored_at IS DISTINCT FROM OLD.anchored_at OR NEW.previous_seq IS DISTINCT FROM OLD.previous_seq
     OR NEW.record_hashes IS DISTINCT FROM OLD.record_hashes THEN
    RAISE EXCEPTION 'ledger_anchors keeps every anchor as captured: % refused', TG_OP;
  END IF;
  RETURN NEW;
END
$fn$;
CREATE TRIGGER ledger_anchors_keep
  BEFORE UPDATE OR DELETE ON ledger_anchors
  FOR EACH ROW EXECUTE FUNCTION ledger_anchors_guard();
CREATE TRIGGER ledger_anchors_no_truncate
  BEFORE TRUNCATE ON ledger_anchors
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_anchors_guard();
`,
  },
];

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

/** Applies the migrations not yet recorded in `schema_migrations`; returns the versions applied. */
export async function migrate(driver: Driver, logger?: Logger, list: readonly Migration[] = migrations): Promise<number[]> {
  return driver.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.exec(`
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer     PRIMARY KEY,
  name       text        NOT NULL,
  checksum   text        NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);`);
    const rows = await tx.query<{ version: number; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations ORDER BY version',
    );
    const applied = new Map(rows.map((r) => [Number(r.version), r.checksum]));
    const known = new Set(list.map((m) => m.version));
    const newer = [...applied.keys()].filter((v) => !known.has(v));
    if (newer.length > 0) {
      // A newer release migrated this database; older code keeps working during a rolling update.
      logger?.warn({ versions: newer }, 'records store: database has migrations this version does not know');
    }
    const done: number[] = [];
    for (const m of list) {
      const checksum = sha256Hex(m.sql);
      const appliedChecksum = applied.get(m.version);
      if (appliedChecksum !== undefined) {
        if (appliedChecksum !== checksum) {
          throw new MigrationError(
            `records store migration ${m.version} (${m.name}) differs from the one applied to this database`,
          );
        }
        continue;
      }
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        checksum,
      ]);
      done.push(m.version);
    }
    if (done.length > 0) logger?.info({ versions: done }, 'records store: migrations applied');
    return done;
  });
}
