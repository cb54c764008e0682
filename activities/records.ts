/**
 * Activities that write evidence to the records store. Idempotent through the record id:
 * a retried activity gets the record it appended the first time. Appends and failures are
 * counted in the worker's metrics (activities/metrics.ts).
 */
import { ApplicationFailure } from '@temporalio/common';
import { RecordConflictError, RecordValidationError } from '../src/records/errors.js';
import type { NewRecord, RecordsStore } from '../src/records/types.js';
import { countInActivity } from './metrics.js';

export interface AppendedRecord {
  id: string;
  seq: number;
  hash: string;
}

export interface RecordActivityDeps {
  store: RecordsStore;
}

export function createRecordActivities({ store }: RecordActivityDeps) {
  return {
    /** Appends one evidence record; a bad or conflicting record fails without retries. */
    async appendRecord(record: NewRecord): Promise<AppendedRecord> {
      const tags = { kind: typeof record?.kind === 'string' ? record.kind : 'unknown' };
      try {
        const stored = await store.append(record);
        countInActivity('ledgerAppends', tags);
        return { id: stored.id, seq: stored.seq, hash: stored.hash };
      } catch (err) {
        countInActivity('ledgerAppendFailures', tags);
        if (err instanceof RecordValidationError) {
          throw ApplicationFailure.create({
            type: err.name,
            message: err.message,
            nonRetryable: true,
            details: [err.problems],
          });
        }
        if (err instanceof RecordConflictError) {
          throw ApplicationFailure.create({
            type: err.name,
            message: err.message,
            nonRetryable: true,
            details: [{ id: err.id, fields: err.fields }],
          });
        }
        throw err;
      }
    },
  };
}

export type RecordActivities = ReturnType<typeof createRecordActivities>;
