/**
 * Evidence ledger throughput on embedded PGlite (in memory): sequential `append()` through the
 * records store (validation, canonical JSON, two sha256, head lock, insert, head update) versus
 * a bare baseline of plain single-row INSERTs of the same rows into a plain table on the same
 * PGlite instance, measured in alternating rounds of the same run; then `verify()` throughput,
 * and a page `read()` (records marked verified) against a bare `list()` of the same page.
 *
 *   npm run bench -- ledger            (BENCH_RECORDS=2000)
 *   npx tsx bench/ledger.bench.ts [records]
 */
import { performance } from 'node:perf_hooks';
import { PGlite } from '@electric-sql/pglite';
import { openRecordsStore } from '../src/records/store.js';
import type { NewRecord } from '../src/records/types.js';
import { benchFigures } from './lib/results.js';

const total = Number.parseInt(process.argv[2] ?? process.env.BENCH_RECORDS ?? '2000', 10);
if (!Number.isInteger(total) || total < 100) {
  console.error('records must be a whole number of at least 100');
  process.exit(2);
}
const rounds = 4;
const perRound = Math.ceil(total / rounds);
const warmup = 100;

function recordAt(i: number, prefix: string): NewRecord {
  return {
    id: `${prefix}-${i}`,
    kind: i % 3 === 0 ? 'approval.decided' : 'task.completed',
    subject: `corrective-action/NC-2027-${String(i % 50).padStart(3, '0')}`,
    clauses: ['10.2', 'A.3.3'],
    actor: `person-${i % 17}`,
    occurredAt: new Date(Date.UTC(2027, 0, 1) + i * 60_000).toISOString(),
    content: {
      form: { rootCause: 'training data drift after the supplier change', action: 'retrain monthly', step: i },
      evidence: [`https://wiki.example.org/evidence/${i}`],
      approved: i % 2 === 0,
    },
  };
}

const db = await PGlite.create('memory://');
const store = await openRecordsStore({ dataDir: 'memory://', pglite: db });
await db.exec(`CREATE TABLE bench_plain (
  seq bigint, id text, kind text, subject text, clauses text[], actor text, occurred_at timestamptz,
  content jsonb, content_hash text, prev_hash text, hash text, recorded_at timestamptz DEFAULT now())`);

const fakeHash = 'f'.repeat(64);
async function plainInsert(r: NewRecord, seq: number): Promise<void> {
  await db.query(
    `INSERT INTO bench_plain (seq, id, kind, subject, clauses, actor, occurred_at, content, content_hash, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9, $10, $11)`,
    [seq, r.id, r.kind, r.subject, r.clauses, r.actor, r.occurredAt, JSON.stringify(r.content), fakeHash, fakeHash, fakeHash],
  );
}

for (let i = 0; i < warmup; i++) {
  await plainInsert(recordAt(i, 'warm'), i);
  await store.append(recordAt(i, 'warm'));
}

let baselineMs = 0;
let ledgerMs = 0;
let done = 0;
for (let round = 0; round < rounds; round++) {
  const from = round * perRound;
  const to = Math.min(total, from + perRound);
  const rows = Array.from({ length: to - from }, (_, k) => recordAt(from + k, 'bench'));

  let t0 = performance.now();
  for (const [k, r] of rows.entries()) await plainInsert(r, from + k);
  baselineMs += performance.now() - t0;

  t0 = performance.now();
  for (const r of rows) await store.append(r);
  ledgerMs += performance.now() - t0;
  done += rows.length;
}

const t0 = performance.now();
const verified = await store.verify();
const verifyMs = performance.now() - t0;
if (!verified.ok) throw new Error(`verify failed after the benchmark: ${verified.reason}`);

// A page read for people (`read()`: records marked verified, after checking that the ledger did
// not change since the last check) against the bare `list()` of the same page, alternating.
const pages = 50;
let listMs = 0;
let readMs = 0;
for (let i = 0; i < pages; i++) {
  const afterSeq = (i * 97) % Math.max(1, verified.records - 100);
  let t = performance.now();
  await store.list({ afterSeq, limit: 100 });
  listMs += performance.now() - t;
  t = performance.now();
  const page = await store.read({ afterSeq, limit: 100 });
  readMs += performance.now() - t;
  if (!page.ledger.intact || page.records.some((r) => !r.verified)) throw new Error('an untampered ledger read as unverified');
}

await store.close();
await db.close();

const baselineOps = (done / baselineMs) * 1000;
const ledgerOps = (done / ledgerMs) * 1000;
const verifyOps = (verified.records / verifyMs) * 1000;
const fmt = (n: number) => n.toFixed(0).padStart(8);
console.log(`ledger benchmark on PGlite (in memory), ${done} records in ${rounds} alternating rounds`);
console.log(`  bare INSERT (baseline)  ${fmt(baselineOps)} ops/s`);
console.log(`  records store append    ${fmt(ledgerOps)} ops/s`);
console.log(`  ratio append/baseline   ${(ledgerOps / baselineOps).toFixed(3)}  (append costs ${(baselineOps / ledgerOps).toFixed(2)}x a bare INSERT)`);
console.log(`  verify()                ${fmt(verifyOps)} records/s over ${verified.records} records`);
console.log(`  list() of 100 records   ${(listMs / pages).toFixed(2).padStart(8)} ms per page (baseline)`);
console.log(`  read() of 100 records   ${(readMs / pages).toFixed(2).padStart(8)} ms per page, ratio read/list ${(readMs / listMs).toFixed(3)} (checks the ledger is unchanged, hashes nothing)`);

const figures = benchFigures('ledger');
const detail = { records: done, rounds, store: 'PGlite in memory' };
figures.add({ name: 'ledger append', value: ledgerOps, unit: '/s', baseline: baselineOps, detail });
figures.add({ name: 'verify', value: verifyOps, unit: 'records/s', detail: { records: verified.records } });
figures.add({ name: 'read() of 100 records', value: readMs / pages, unit: 'ms', baseline: listMs / pages, detail: { pages } });
await figures.write();
